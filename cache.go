package sikkerkey

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// ErrServedFromCache is reported to a Watcher's OnError callbacks when a
// reload had to take a secret from the offline cache because SikkerKey was
// unavailable (see WithCache). The configuration is still published: it is
// the best one available, but an operator should know the service runs on
// cached secrets.
var ErrServedFromCache = errors.New("sikkerkey: SikkerKey is unavailable; a secret was served from the offline cache")

// WithCache turns on the offline cache (sdk.WithCache) for the SikkerKey
// client that Load and Watch create from WithVault or the auto-detected
// identity, so a service can start and reload while the SikkerKey API is
// unreachable. Only "unavailable" failures are answered from the cache:
// revocation and deletion always win. Every secret served from the cache
// is logged as a warning by the client (secret id and age, never the
// value), calls opts.OnFallback when set, and in a Watcher is also reported
// to OnError as an error matching ErrServedFromCache.
//
// With WithClient or WithSources, configure the cache on your own client
// with sdk.WithCache instead; combining them with WithCache is an error.
func WithCache(opts sdk.CacheOptions) Option {
	return func(o *options) { o.cache = &opts }
}

// cacheFallbacks routes the default client's cache fallbacks to whoever
// listens: nobody during Load, the Watcher's OnError once it runs.
type cacheFallbacks struct {
	report atomic.Pointer[func(error)]
}

// clientOption returns the sdk option that turns the cache on, with an
// OnFallback that also tells f's listener.
func (f *cacheFallbacks) clientOption(co sdk.CacheOptions) sdk.Option {
	user := co.OnFallback
	co.OnFallback = func(secretID string, cachedAt time.Time) {
		if report := f.report.Load(); report != nil {
			(*report)(fmt.Errorf("%w: secret %s, cached %s ago", ErrServedFromCache, secretID, time.Since(cachedAt).Round(time.Second)))
		}
		if user != nil {
			user(secretID, cachedAt)
		}
	}
	return sdk.WithCache(co)
}
