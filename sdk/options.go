package sdk

import (
	"log/slog"
	"net/http"
	"time"
)

// Defaults, as in the official SDKs.
const (
	// DefaultTimeout bounds one attempt of one request, body included.
	DefaultTimeout = 15 * time.Second
	// DefaultPollInterval is the time between two poll requests of Watch.
	DefaultPollInterval = 15 * time.Second
	// MinPollInterval is the SikkerKey server's minimum time between polls.
	MinPollInterval = 10 * time.Second
	// DefaultAPIURL is the public SikkerKey API, used by BootstrapInMemory
	// when neither WithAPIURL nor $SIKKERKEY_API_URL is set.
	DefaultAPIURL = "https://api.sikkerkey.com"
	// DefaultMaxRetryAfter caps how long a server's Retry-After can make a
	// retry wait.
	DefaultMaxRetryAfter = 30 * time.Second
	// MaxResponseBytes caps the size of a response body; a larger one is
	// ErrInvalidResponse.
	MaxResponseBytes = 8 << 20
)

// DefaultRetryBackoff is the wait before each retry: three retries, 1 s, 2 s
// and 4 s apart, like the official SDKs.
var DefaultRetryBackoff = []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second}

// Option configures a Client.
type Option func(*options)

type options struct {
	httpClient    *http.Client
	timeout       time.Duration
	backoff       []time.Duration
	maxRetryAfter time.Duration
	logger        *slog.Logger
	apiURL        string
	hostname      string
	machineName   string
	pollInterval  time.Duration
	minPoll       time.Duration
	cache         *CacheOptions // nil: no offline cache
}

func buildOptions(opts []Option) options {
	o := options{
		timeout:       DefaultTimeout,
		backoff:       DefaultRetryBackoff,
		maxRetryAfter: DefaultMaxRetryAfter,
		pollInterval:  DefaultPollInterval,
		minPoll:       MinPollInterval,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	o.pollInterval = max(o.pollInterval, o.minPoll)
	return o
}

// WithHTTPClient makes the client send requests through hc's Transport
// (for proxies, custom TLS roots or instrumentation). The client never
// follows redirects and applies its own per-attempt timeout whatever hc says.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) { o.httpClient = hc }
}

// WithTimeout sets the time limit of one attempt of one request, reading
// the body included (default 15 s). Retries get a fresh limit each.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithRetryBackoff sets the waits before each retry; the number of delays is
// the number of retries (default 1 s, 2 s, 4 s). No delays means no retries.
// Only HTTP 429, 503 and network failures are retried.
func WithRetryBackoff(delays ...time.Duration) Option {
	return func(o *options) { o.backoff = append([]time.Duration(nil), delays...) }
}

// WithMaxRetryAfter caps how long a server's Retry-After header may delay a
// retry (default 30 s). A longer hint is shortened to the cap.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(o *options) {
		if d >= 0 {
			o.maxRetryAfter = d
		}
	}
}

// WithLogger sets the logger for retries, watch errors, recovered callback
// panics and key-permission warnings. Records never contain secret values.
// The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithAPIURL sets the API base URL. For BootstrapInMemory it is the
// enrollment endpoint (default $SIKKERKEY_API_URL, else DefaultAPIURL); for
// New and NewFromKey it replaces the identity's apiUrl. The HTTPS rule
// applies either way: https, or http to localhost, 127.0.0.1 or [::1] only.
func WithAPIURL(u string) Option {
	return func(o *options) { o.apiURL = u }
}

// WithHostname sets the hostname BootstrapInMemory reports (default
// $HOSTNAME, else "serverless").
func WithHostname(h string) Option {
	return func(o *options) { o.hostname = h }
}

// WithMachineName sets the machine name BootstrapInMemory asks for; an
// enrollment token's name pattern may override it.
func WithMachineName(n string) Option {
	return func(o *options) { o.machineName = n }
}

// WithPollInterval sets the time between two poll requests of Watch, like
// SetPollInterval.
func WithPollInterval(d time.Duration) Option {
	return func(o *options) { o.pollInterval = d }
}

// WithMinPollInterval changes the floor that poll intervals are clamped to
// (default MinPollInterval, the SikkerKey server's own minimum). Lower it
// only against a server without that limit, such as sikkerkeytest in tests.
func WithMinPollInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.minPoll = d
		}
	}
}
