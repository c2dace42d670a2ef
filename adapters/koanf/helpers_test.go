package sikkerkeykoanf_test

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

// event is one Watch callback.
type event struct {
	ev  any
	err error
}

// recorder returns a Watch callback that sends what it gets to a channel.
func recorder() (func(any, error), chan event) {
	ch := make(chan event, 100)
	return func(ev any, err error) { ch <- event{ev, err} }, ch
}

// next waits for the next callback.
func next(t *testing.T, ch chan event) event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no watch callback within 5s")
		return event{}
	}
}

// quiet fails if a callback arrives within d.
func quiet(t *testing.T, ch chan event, d time.Duration) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("unexpected watch callback (%v, %v)", e.ev, e.err)
	case <-time.After(d):
	}
}
