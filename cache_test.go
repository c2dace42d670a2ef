package sikkerkey_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey"
	"github.com/sikkerkey-go/sikkerkey/internal/logbuf"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
	"github.com/sikkerkey-go/sikkerkey/source"
)

type cachedConfig struct {
	APIKey sikkerkey.Secret `sikkerkey:"sk_api"`
	DBHost string           `sikkerkey:"sk_db,field=host"`
	DBPass sikkerkey.Secret `sikkerkey:"sk_db,field=password"`
	Region string           `sikkerkey:"sk_region"`
}

// cacheRig is a test server with one machine whose identity is on disk, so
// Load builds its own default client from WithVault.
func cacheRig(t *testing.T) (*sikkerkeytest.Server, string) {
	t.Helper()
	srv := sikkerkeytest.NewServer()
	t.Cleanup(srv.Close)
	srv.PutSecret("sk_api", "api", "", "api-SECRET-1")
	srv.PutFields("sk_db", "db", "", map[string]string{"host": "db.internal", "password": "db-SECRET-2"})
	srv.PutSecret("sk_region", "region", "", "eu-north-1")
	path, err := srv.AddMachine("svc").WriteIdentity(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return srv, path
}

func TestLoadFromOfflineCache(t *testing.T) {
	t.Parallel()
	srv, identity := cacheRig(t)
	var logs logbuf.Buffer
	var mu sync.Mutex
	var fallbacks []string
	opts := []sikkerkey.Option{
		sikkerkey.WithVault(identity),
		sikkerkey.WithClientOptions(sdk.WithRetryBackoff()),
		sikkerkey.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		sikkerkey.WithCache(sdk.CacheOptions{Dir: t.TempDir(), OnFallback: func(id string, _ time.Time) {
			mu.Lock()
			fallbacks = append(fallbacks, id)
			mu.Unlock()
		}}),
	}
	ctx := context.Background()
	var live cachedConfig
	if err := sikkerkey.Load(ctx, &live, opts...); err != nil {
		t.Fatal(err)
	}

	// With the cache on, secrets are read one by one: only single reads
	// fill the cache.
	for _, r := range srv.Requests() {
		if r.Path == "/v1/secrets/export" {
			t.Fatalf("a cached client exported: %+v", srv.Requests())
		}
	}

	srv.Seal() // SikkerKey is unavailable: the cache answers
	var cached cachedConfig
	if err := sikkerkey.Load(ctx, &cached, opts...); err != nil {
		t.Fatalf("load while sealed: %v", err)
	}
	if cached != live || cached.APIKey.Reveal() != "api-SECRET-1" {
		t.Fatalf("cached config %+v differs from live %+v", cached, live)
	}
	mu.Lock()
	if len(fallbacks) != 3 {
		t.Errorf("OnFallback calls: %v, want one per secret", fallbacks)
	}
	mu.Unlock()
	out := logs.String()
	if !strings.Contains(out, "offline cache") || !strings.Contains(out, "sk_db") {
		t.Errorf("the log does not say the config came from the cache:\n%s", out)
	}
	if strings.Contains(out, "SECRET") {
		t.Errorf("the log holds a secret value:\n%s", out)
	}

	// Deletion wins over the cache.
	srv.Unseal()
	srv.Delete("sk_region")
	var gone cachedConfig
	if err := sikkerkey.Load(ctx, &gone, opts...); !errors.Is(err, sikkerkey.ErrMissing) {
		t.Fatalf("deleted secret: %v", err)
	}
}

func TestWatchReportsOfflineCache(t *testing.T) {
	t.Parallel()
	srv, identity := cacheRig(t)
	ctx := context.Background()
	w, err := sikkerkey.Watch[cachedConfig](ctx, sikkerkey.WithVault(identity),
		sikkerkey.WithClientOptions(sdk.WithRetryBackoff()),
		sikkerkey.WithCache(sdk.CacheOptions{Dir: t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	errs := make(chan error, 10)
	w.OnError(func(err error) { errs <- err })
	srv.Seal()
	if err := w.Refresh(ctx); err != nil {
		t.Fatalf("refresh from the cache: %v", err)
	}
	select {
	case err := <-errs:
		if !errors.Is(err, sikkerkey.ErrServedFromCache) || strings.Contains(err.Error(), "SECRET") {
			t.Fatalf("OnError got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnError was not told about the cache")
	}
	if got := w.Current().DBPass.Reveal(); got != "db-SECRET-2" {
		t.Fatal("config lost its value")
	}
}

func TestWithCacheNeedsTheDefaultClient(t *testing.T) {
	t.Parallel()
	var cfg cachedConfig
	err := sikkerkey.Load(context.Background(), &cfg, sikkerkey.WithSources(source.Map(map[string]string{"sk_api": "a"})),
		sikkerkey.WithCache(sdk.CacheOptions{}))
	if !errors.Is(err, sdk.ErrConfiguration) || !strings.Contains(err.Error(), "WithCache") {
		t.Fatalf("err = %v", err)
	}
}
