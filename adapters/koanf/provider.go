package sikkerkeykoanf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/knadh/koanf/v2"
	"github.com/sikkerkey-go/sikkerkey/adapters/internal/adapt"
	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// DefaultTimeout, 30 seconds, bounds one Read (every request of its batch
// fetch, retries included) unless WithTimeout says otherwise.
const DefaultTimeout = adapt.DefaultTimeout

var (
	// ErrNotSupported is returned by ReadBytes: the provider hands koanf an
	// already parsed map, so it is loaded with a nil parser.
	ErrNotSupported = errors.New("sikkerkey provider does not support this method")
	// ErrAlreadyWatched is returned by Watch while the provider is already
	// watching.
	ErrAlreadyWatched = errors.New("sikkerkeykoanf: already watching; call Unwatch first")
)

// Provider is a koanf.Provider that reads a fixed set of SikkerKey secrets.
// Create it with New. It is safe for concurrent use.
type Provider struct {
	secrets *adapt.SecretSet
	ctx     context.Context

	mu       sync.Mutex
	current  *adapt.Watcher   // the running watch, nil when not watching
	watchers []*adapt.Watcher // every watcher whose goroutine may still run
}

var _ koanf.Provider = (*Provider)(nil)

// Option configures a Provider.
type Option func(*config)

type config struct {
	adapt.Config
	ctx context.Context
}

// Rename stores secret id under key instead of under the id itself. A key
// holding the delimiter (see WithDelim, default ".") is a path:
// Rename("sk_db_prod", "db.primary") puts the secret's fields under
// db.primary.host, db.primary.password and so on. No key may equal another
// or lie inside another; New reports such conflicts.
func Rename(id, key string) Option {
	return func(c *config) { c.Rename(id, key) }
}

// WithTimeout bounds each Read, every request of its batch fetch and the
// client's retries included (default DefaultTimeout). Zero means no bound
// beyond the client's per-request timeout.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.Timeout = d }
}

// WithContext sets the context every Read runs under and that ends a Watch
// when it is done (default context.Background()). koanf's Read and Watch
// take no context, so the provider keeps this one.
func WithContext(ctx context.Context) Option {
	return func(c *config) {
		if ctx == nil {
			c.Errs = append(c.Errs, errors.New("WithContext(nil)"))
			return
		}
		c.ctx = ctx
	}
}

// WithDelim sets the delimiter that splits Rename keys into paths. Use the
// delimiter given to koanf.New (default ".").
func WithDelim(delim string) Option {
	return func(c *config) { c.Delim = delim }
}

// New returns a provider reading the secrets with the given ids through
// client. Each secret lands under its id, or under the key given with
// Rename. The client is not closed by the provider.
//
// New makes no request; it fails only on a nil client, no ids, an invalid
// id, or a bad option.
func New(client *sdk.Client, ids []string, opts ...Option) (*Provider, error) {
	c := config{Config: adapt.DefaultConfig(), ctx: context.Background()}
	for _, o := range opts {
		o(&c)
	}
	s, err := adapt.NewSecretSet(client, ids, c.Config)
	if err != nil {
		return nil, fmt.Errorf("sikkerkeykoanf: %w", err)
	}
	return &Provider{secrets: s, ctx: c.ctx}, nil
}

// Read fetches every secret of the provider in one batch (one export
// request for three or more secrets, parallel reads for one or two) and
// returns them as a nested map: a structured secret (a JSON object) becomes
// a map of its fields, which are strings, and any other secret a string.
// With Rename("sk_db_prod", "database"), koanf sees database.host,
// database.password and so on.
//
// Each call returns new maps; the provider keeps no reference to them.
// A secret that does not exist is an error naming its id, as is any other
// failure; errors never contain secret values.
func (p *Provider) Read() (map[string]any, error) {
	m, err := p.secrets.Fetch(p.ctx)
	if err != nil {
		return nil, fmt.Errorf("sikkerkeykoanf: %w", err)
	}
	return m, nil
}

// ReadBytes returns ErrNotSupported: load the provider with a nil parser,
// k.Load(p, nil).
func (p *Provider) ReadBytes() ([]byte, error) {
	return nil, ErrNotSupported
}

// Watch starts watching the provider's secrets and returns at once. It
// reports changes made since this machine last read them, so call it after
// the first Load. The secrets are registered with the client's poller, which asks SikkerKey
// about every secret the client watches in one poll request per interval
// (see sdk.WithPollInterval; 15 s by default, never less than the server's
// 10 s minimum).
//
// cb runs on a goroutine of the provider's, never concurrently with itself:
//
//   - cb(nil, nil) when secrets were rotated. The changes of one poll round
//     (and of rounds less than 100 ms apart) are reported once.
//   - cb(nil, err) when a poll or the re-read of a changed secret failed;
//     polling goes on.
//   - cb(nil, err) with err matching sdk.ErrNotFound (a secret was deleted)
//     or sdk.ErrAccessDenied (the machine lost access to one). This ends the
//     watch, as koanf's file provider ends its watch when the file is
//     removed; Watch may be called again, from cb too.
//
// Build a new koanf instance in cb and swap it in (see the package
// documentation) rather than loading into a koanf that other goroutines
// read. Watch returns ErrAlreadyWatched while a watch is running.
//
// The client keeps one watch callback per secret id, so two providers (or a
// provider and other code) on the same client must not watch the same id.
func (p *Provider) Watch(cb func(event any, err error)) error {
	if cb == nil {
		return errors.New("sikkerkeykoanf: Watch needs a callback")
	}
	if err := p.ctx.Err(); err != nil {
		return fmt.Errorf("sikkerkeykoanf: the provider's context is done: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.watchers = slices.DeleteFunc(p.watchers, (*adapt.Watcher).Finished)
	if p.current != nil && !p.current.Finished() {
		return ErrAlreadyWatched
	}
	deliver := func(w *adapt.Watcher, b adapt.Batch) {
		if b.Final {
			// The watch is over: let cb call Watch again.
			p.mu.Lock()
			if p.current == w {
				p.current = nil
			}
			p.mu.Unlock()
		}
		// Unwatch called from cb stops the rest of the batch too.
		if b.Changed && !w.IsClosed() {
			cb(nil, nil)
		}
		for _, err := range b.Errs {
			if !w.IsClosed() {
				cb(nil, fmt.Errorf("sikkerkeykoanf: %w", err))
			}
		}
	}
	w, err := p.secrets.Watch(adapt.WatchConfig{EndOnFinal: true, Done: p.ctx.Done(), Deliver: deliver})
	if err != nil {
		return fmt.Errorf("sikkerkeykoanf: %w", err)
	}
	p.current = w
	p.watchers = append(p.watchers, w)
	return nil
}

// Unwatch stops watching: it takes the provider's secrets off the client's
// poller and waits until a callback in progress has returned (unless called
// from the callback), so cb is never called after Unwatch returns. It
// returns nil, also when the provider is not watching.
func (p *Provider) Unwatch() error {
	p.mu.Lock()
	w := p.current
	p.current = nil
	watchers := slices.Clone(p.watchers)
	p.watchers = nil
	p.mu.Unlock()
	if w != nil {
		w.Close()
	}
	// A watch that ended by itself may still be delivering its last batch.
	for _, x := range watchers {
		x.Wait()
	}
	return nil
}
