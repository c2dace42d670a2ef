package sdk_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// TestCacheAgainstTestServer runs the cache rules against the strict test
// server, which checks every signature.
func TestCacheAgainstTestServer(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var fallbacks []string
	srv, m, c := newServer(t, sdk.WithRetryBackoff(), sdk.WithCache(sdk.CacheOptions{
		Dir: t.TempDir(),
		OnFallback: func(id string, _ time.Time) {
			mu.Lock()
			fallbacks = append(fallbacks, id)
			mu.Unlock()
		},
	}))
	ctx := context.Background()
	mustGet := func(id, want string) {
		t.Helper()
		if v, err := c.GetSecret(ctx, id); err != nil || v != want {
			t.Fatalf("GetSecret(%s) = %q, %v", id, v, err)
		}
	}
	for _, id := range []string{"sk_e1", "sk_e2"} {
		srv.PutSecret(id, id, "", "value-"+id)
		mustGet(id, "value-"+id)
	}

	srv.FailNext(530)
	mustGet("sk_e1", "value-sk_e1")
	srv.DropNext(1)
	mustGet("sk_e1", "value-sk_e1")
	srv.FailNext(429)
	if _, err := c.GetSecret(ctx, "sk_e1"); !errors.Is(err, sdk.ErrRateLimited) {
		t.Fatalf("429: %v", err)
	}
	srv.Revoke(m.ID(), "sk_e2")
	if _, err := c.GetSecret(ctx, "sk_e2"); !errors.Is(err, sdk.ErrAccessDenied) {
		t.Fatalf("revoked: %v", err)
	}
	srv.Seal()
	if _, err := c.GetSecret(ctx, "sk_e2"); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("revoked, then sealed: %v; the entry should be gone", err)
	}
	srv.Unseal()
	m.Remove()
	if _, err := c.GetSecret(ctx, "sk_e1"); !errors.Is(err, sdk.ErrAuthentication) {
		t.Fatalf("removed machine: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(fallbacks) != 2 {
		t.Fatalf("OnFallback calls: %v, want 2", fallbacks)
	}
}
