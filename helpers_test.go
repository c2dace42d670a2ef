package sikkerkey

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
	"github.com/sikkerkey-go/sikkerkey/source"
)

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// recorder is a source that counts its lookups.
type recorder struct {
	inner source.Source
	mu    sync.Mutex
	calls [][]source.Request
}

func (r *recorder) Lookup(ctx context.Context, reqs []source.Request) (map[string]source.Value, error) {
	r.mu.Lock()
	r.calls = append(r.calls, slices.Clone(reqs))
	r.mu.Unlock()
	return r.inner.Lookup(ctx, reqs)
}

func (r *recorder) String() string { return "recorder" }

func (r *recorder) requested() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, c := range r.calls {
		for _, q := range c {
			ids = append(ids, q.ID)
		}
	}
	return ids
}

// newClient returns a client for m over a transport of its own, closed
// (with its connections) when the test ends.
func newClient(tb testing.TB, srv *sikkerkeytest.Server, m *sikkerkeytest.Machine, opts ...sdk.Option) *sdk.Client {
	tb.Helper()
	c, done := coldClient(tb, srv, m, opts...)
	tb.Cleanup(done)
	return c
}

func coldClient(tb testing.TB, srv *sikkerkeytest.Server, m *sikkerkeytest.Machine, opts ...sdk.Option) (*sdk.Client, func()) {
	tb.Helper()
	hc := srv.NewHTTPClient()
	c, err := m.Client(append([]sdk.Option{sdk.WithHTTPClient(hc), sdk.WithRetryBackoff()}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return c, func() {
		_ = c.Close()
		hc.CloseIdleConnections()
	}
}

// newServer starts a test server closed when the test ends.
func newServer(tb testing.TB, opts ...sikkerkeytest.Option) *sikkerkeytest.Server {
	srv := sikkerkeytest.NewServer(opts...)
	tb.Cleanup(srv.Close)
	return srv
}

// countRequests counts the server's requests by kind.
func countRequests(srv *sikkerkeytest.Server) (gets, exports, polls int) {
	c := srv.RequestCounts()
	return c.Reads, c.Exports, c.Polls
}
