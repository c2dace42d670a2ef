package sdk_test

import (
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// newServer starts a sikkerkeytest server with one machine and returns a
// client for it that polls fast and retries without waiting.
func newServer(t testing.TB, opts ...sdk.Option) (*sikkerkeytest.Server, *sikkerkeytest.Machine, *sdk.Client) {
	t.Helper()
	srv := sikkerkeytest.NewServer()
	t.Cleanup(srv.Close)
	m := srv.AddMachine("test-machine")
	base := []sdk.Option{
		sdk.WithMinPollInterval(5 * time.Millisecond),
		sdk.WithPollInterval(20 * time.Millisecond),
		sdk.WithRetryBackoff(time.Millisecond, time.Millisecond, time.Millisecond),
	}
	c, err := m.Client(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return srv, m, c
}
