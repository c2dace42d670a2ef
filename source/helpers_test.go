package source

import (
	"testing"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// coldClient returns a client for m over a transport of its own (new
// connections, new TLS handshakes) and a func that closes both.
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

// countRequests counts the server's requests by kind.
func countRequests(srv *sikkerkeytest.Server) (gets, exports, polls int) {
	c := srv.RequestCounts()
	return c.Reads, c.Exports, c.Polls
}
