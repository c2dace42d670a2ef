package sdk

import (
	"crypto/ed25519"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// Client reads secrets from SikkerKey as one machine. It is safe for
// concurrent use by multiple goroutines; create one per identity and reuse
// it, since it holds a pool of keep-alive connections.
type Client struct {
	id Identity
	// key is held through a pointer so that printing a Client with fmt
	// (%v, %+v, %#v) shows an address, never the key: fmt prints the bytes
	// of a slice held in an unexported field, whatever its type's methods.
	key     *ed25519.PrivateKey
	baseURL string
	http    *http.Client
	// ownTransport is the transport the client created itself, closed by
	// Close; nil when the caller supplied an *http.Client.
	ownTransport *http.Transport
	opts         options
	log          *slog.Logger
	// now is the signing clock; tests replace it.
	now func() time.Time

	watch watchState
	// pollDoubts are the ids whose poll answer may have been lost.
	pollDoubts pollDoubts
	// cache is the offline fallback cache; nil unless WithCache.
	cache *secretCache

	closed    atomic.Bool
	closeOnce sync.Once
}

// New loads a machine identity from disk and returns a client for it.
// vaultOrPath is resolved as ResolveIdentityPath documents: "" auto-detects,
// a value starting with "/" or containing "identity.json" is a path, anything
// else is a vault id. Errors match ErrConfiguration and name the path that
// was checked.
func New(vaultOrPath string, opts ...Option) (*Client, error) {
	o := buildOptions(opts)
	path, err := ResolveIdentityPath(vaultOrPath)
	if err != nil {
		return nil, err
	}
	id, key, err := LoadIdentity(path, o.logger)
	if err != nil {
		return nil, err
	}
	return newClient(id, key, o)
}

// NewFromKey returns a client for an identity held in memory, for
// containers and platforms that deliver the key some other way than a file.
// id needs MachineID and APIURL; VaultID and MachineName are informational
// (VaultID also names the offline cache directory).
func NewFromKey(id Identity, key ed25519.PrivateKey, opts ...Option) (*Client, error) {
	return newClient(id, key, buildOptions(opts))
}

func newClient(id Identity, key ed25519.PrivateKey, o options) (*Client, error) {
	if id.MachineID == "" {
		return nil, configError("identity has no machine id")
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, configError("private key must be an Ed25519 key of %d bytes", ed25519.PrivateKeySize)
	}
	if o.apiURL != "" {
		id.APIURL = o.apiURL
	}
	base, err := checkBaseURL(id.APIURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		id:      id,
		key:     &key,
		baseURL: base,
		opts:    o,
		log:     o.logger,
		now:     time.Now,
	}
	if err := c.initCache(); err != nil {
		return nil, err
	}
	c.http, c.ownTransport = newHTTPClient(o.httpClient)
	c.watch.init(o.pollInterval)
	return c, nil
}

// checkBaseURL applies the HTTPS rule with an error that matches
// ErrConfiguration.
func checkBaseURL(raw string) (string, error) {
	base, err := wire.CheckBaseURL(raw)
	if err != nil {
		return "", configError("%v: %q. Use http only for localhost during local development", err, redactURL(raw))
	}
	return base, nil
}

// redactURL drops anything that could be a credential from a URL before it
// is shown in an error: the user information (up to the last '@', so that
// a password holding '@', '?' or '#' goes entirely) and the query string
// and fragment, where tokens are often passed (an API URL may have neither,
// which is what the error is about).
func redactURL(raw string) string {
	scheme, rest := "", raw
	if j := strings.Index(raw, "://"); j >= 0 {
		scheme, rest = raw[:j+3], raw[j+3:]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = "[REDACTED]@" + rest[i+1:]
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i+1] + "[REDACTED]"
	}
	return scheme + rest
}

// newHTTPClient returns the client used for requests: a copy of the
// caller's (so their CheckRedirect is not changed) or a new one over a
// transport of its own, never following redirects.
func newHTTPClient(hc *http.Client) (*http.Client, *http.Transport) {
	var own *http.Transport
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		own = http.DefaultTransport.(*http.Transport).Clone()
		own.MaxIdleConnsPerHost = 64
		own.ForceAttemptHTTP2 = true
		c.Transport = own
	}
	c.Timeout = 0 // per-attempt deadlines come from the request context
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c, own
}

// MachineID returns the machine id requests are signed as.
func (c *Client) MachineID() string { return c.id.MachineID }

// MachineName returns the machine's informational name.
func (c *Client) MachineName() string { return c.id.MachineName }

// VaultID returns the vault id of the identity ("" when unknown).
func (c *Client) VaultID() string { return c.id.VaultID }

// APIURL returns the API base URL, trailing slashes trimmed.
func (c *Client) APIURL() string { return c.baseURL }

// Identity returns the identity the client signs as.
func (c *Client) Identity() Identity {
	id := c.id
	id.APIURL = c.baseURL
	return id
}

// Close stops the watcher, if any, waits for its goroutine to exit (unless
// Close is called from a watch callback, which cannot wait for itself), and
// releases idle connections. It is idempotent and returns nil. Requests and
// Watch calls after Close return ErrClosed.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.watch.close()
		if c.ownTransport != nil {
			c.ownTransport.CloseIdleConnections()
		}
	})
	return nil
}
