package sikkerkeyviper_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fixture is a test server with one machine and a few secrets.
type fixture struct {
	srv    *sikkerkeytest.Server
	client *sdk.Client
}

// newFixture starts a server holding:
//
//	sk_db_prod  structured {host, port, password, timeout}
//	sk_api_key  plain
//	sk_list     plain (a JSON array is not structured)
//
// and returns a client that polls every 20 ms and never retries.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := sikkerkeytest.NewServer()
	t.Cleanup(srv.Close)
	srv.PutFields("sk_db_prod", "DB", "prj", map[string]string{
		"host": "db.internal", "port": "5432", "password": "hunter2-db", "timeout": "5s",
	})
	srv.PutSecret("sk_api_key", "API key", "prj", "k-123-secret")
	srv.PutSecret("sk_list", "List", "prj", `["a","b"]`)
	client, err := srv.AddMachine("test").Client(
		sdk.WithMinPollInterval(10*time.Millisecond),
		sdk.WithPollInterval(20*time.Millisecond),
		sdk.WithRetryBackoff(),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return &fixture{srv: srv, client: client}
}

// count counts the server's requests by kind.
func (f *fixture) count() (gets, exports, polls int) {
	for _, r := range f.srv.Requests() {
		switch {
		case strings.HasPrefix(r.Path, "/v1/secret/"):
			gets++
		case r.Path == "/v1/secrets/export":
			exports++
		case r.Path == "/v1/secrets/poll":
			polls++
		}
	}
	return
}

// receive waits for a value on ch.
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received within 5s")
		var zero T
		return zero
	}
}

// nothing fails if a value arrives on ch within d.
func nothing[T any](t *testing.T, ch <-chan T, d time.Duration) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %v", v)
	case <-time.After(d):
	}
}
