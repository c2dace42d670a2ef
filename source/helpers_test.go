package source

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// coldClient returns a client for m over a transport of its own (new
// connections, new TLS handshakes) and a func that closes both.
func coldClient(tb testing.TB, srv *sikkerkeytest.Server, m *sikkerkeytest.Machine, opts ...sdk.Option) (*sdk.Client, func()) {
	tb.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	if cert := srv.Certificate(); cert != nil {
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	opts = append([]sdk.Option{sdk.WithHTTPClient(&http.Client{Transport: tr}), sdk.WithRetryBackoff()}, opts...)
	c, err := sdk.NewFromKey(sdk.Identity{MachineID: m.ID(), APIURL: srv.URL()}, m.PrivateKey(), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return c, func() {
		_ = c.Close()
		tr.CloseIdleConnections()
	}
}

// countRequests counts the server's requests by kind.
func countRequests(srv *sikkerkeytest.Server) (gets, exports, polls int) {
	c := srv.RequestCounts()
	return c.Reads, c.Exports, c.Polls
}
