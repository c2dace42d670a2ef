package sikkerkey

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/source"
)

// DefaultPollInterval is the time between two polls of Watch for sources
// that are polled (SikkerKey).
const DefaultPollInterval = sdk.DefaultPollInterval

// Option configures Load and Watch.
type Option func(*options)

type options struct {
	vault        string
	vaultSet     bool
	client       *sdk.Client
	sources      []source.Source
	sourcesSet   bool
	hooks        []mapstructure.DecodeHookFunc
	logger       *slog.Logger
	pollInterval time.Duration
	cache        *sdk.CacheOptions
	clientOpts   []sdk.Option
	errs         []error

	jitter func(n int64) int64 // tests replace the poll jitter (uniform in [0, n))
}

// WithVault selects the SikkerKey identity of the default source: a vault id
// (vault_abc123), or a path to an identity.json. Without WithVault,
// WithClient and WithSources, the identity is auto-detected as sdk.New("")
// does ($SIKKERKEY_IDENTITY, else the only vault under ~/.sikkerkey). The
// client made for it is closed when Load returns (Watch: on Close).
func WithVault(vaultOrPath string) Option {
	return func(o *options) { o.vault, o.vaultSet = vaultOrPath, true }
}

// WithClient makes the default source read through client, which the
// caller keeps ownership of (Load and Watch never close it). It is the same
// as WithSources(source.SikkerKey(client)).
func WithClient(client *sdk.Client) Option {
	return func(o *options) {
		if client == nil {
			o.errs = append(o.errs, errors.New("WithClient(nil)"))
			return
		}
		o.client = client
	}
}

// WithSources replaces the default SikkerKey source with sources, in order of
// precedence: for each secret id, the first source that has it supplies its
// value and all of its fields. For example, environment overrides over
// SikkerKey:
//
//	sikkerkey.WithSources(source.Env(), source.SikkerKey(client))
//
// It cannot be combined with WithVault or WithClient, which configure the
// default source.
func WithSources(sources ...source.Source) Option {
	return func(o *options) {
		if len(sources) == 0 {
			o.errs = append(o.errs, errors.New("WithSources() without sources"))
		}
		for i, s := range sources {
			if s == nil {
				o.errs = append(o.errs, fmt.Errorf("WithSources: source %d is nil", i+1))
			}
		}
		o.sources, o.sourcesSet = append(o.sources, sources...), true
	}
}

// WithClientOptions passes options (timeouts, retries, HTTP client, ...)
// to the SikkerKey client that Load and Watch create from WithVault or the
// auto-detected identity. The loader's own WithLogger and WithCache are
// applied after them. With WithClient or WithSources it is an error:
// configure your own client instead.
func WithClientOptions(opts ...sdk.Option) Option {
	return func(o *options) { o.clientOpts = append(o.clientOpts, opts...) }
}

// WithDecodeHook adds a go-viper/mapstructure decode hook. Hooks run in the
// order they were added, before the built-in conversions, and receive the
// value as a string together with the target type; a hook that returns a
// value of another type hands it on. Errors returned by hooks are replaced
// by an error naming the field and type, since their text may quote the
// value.
func WithDecodeHook(hook mapstructure.DecodeHookFunc) Option {
	return func(o *options) {
		if hook == nil {
			o.errs = append(o.errs, errors.New("WithDecodeHook(nil)"))
			return
		}
		o.hooks = append(o.hooks, hook)
	}
}

// WithLogger sets the logger for what the loader does in the background
// (reload failures, recovered callback panics) and for the default
// SikkerKey client. Records never contain secret values. The default
// discards everything.
func WithLogger(logger *slog.Logger) Option {
	return func(o *options) {
		if logger != nil {
			o.logger = logger
		}
	}
}

// WithPollInterval sets the time between two polls of Watch (default 15 s).
// It is raised to a source's minimum when the source has one: SikkerKey
// accepts no less than its client's MinPollInterval (10 s, the server's
// limit). Load ignores it.
func WithPollInterval(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.errs = append(o.errs, fmt.Errorf("WithPollInterval(%v): the interval must be positive", d))
			return
		}
		o.pollInterval = d
	}
}

func buildOptions(opts []Option) (options, error) {
	o := options{
		logger:       slog.New(slog.DiscardHandler),
		pollInterval: DefaultPollInterval,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.sourcesSet && (o.vaultSet || o.client != nil) {
		o.errs = append(o.errs, errors.New("WithSources cannot be combined with WithVault or WithClient; add source.SikkerKey(client) to the sources instead"))
	}
	if (o.cache != nil || len(o.clientOpts) > 0) && (o.sourcesSet || o.client != nil) {
		o.errs = append(o.errs, errors.New("WithCache and WithClientOptions configure the default client; with WithClient or WithSources, configure your own client instead"))
	}
	if o.vaultSet && o.client != nil {
		o.errs = append(o.errs, errors.New("WithVault and WithClient both choose the SikkerKey identity; give one"))
	}
	if len(o.errs) > 0 {
		return o, fmt.Errorf("%w: %w", sdk.ErrConfiguration, errors.Join(o.errs...))
	}
	return o, nil
}
