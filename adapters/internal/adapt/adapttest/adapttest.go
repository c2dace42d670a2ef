// Package adapttest holds the test fixtures of the adapters' tests and of
// package adapt: a test server with a few secrets, a client for it that
// polls quickly, and helpers to wait for callbacks.
package adapttest

import (
	"log"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// Fixture is a test server with one machine and a few secrets.
type Fixture struct {
	Srv    *sikkerkeytest.Server
	Client *sdk.Client
}

// NewFixture starts a server holding:
//
//	sk_db_prod  structured {host, port, password, timeout}
//	sk_api_key  plain
//	sk_list     plain (a JSON array is not structured)
//
// and returns it with the client of a machine "test" (see Machine). Both
// are closed when the test ends.
func NewFixture(t testing.TB) *Fixture {
	t.Helper()
	srv := sikkerkeytest.NewServer()
	t.Cleanup(srv.Close)
	srv.PutFields("sk_db_prod", "DB", "prj", map[string]string{
		"host": "db.internal", "port": "5432", "password": "hunter2-db", "timeout": "5s",
	})
	srv.PutSecret("sk_api_key", "API key", "prj", "k-123-secret")
	srv.PutSecret("sk_list", "List", "prj", `["a","b"]`)
	f := &Fixture{Srv: srv}
	_, f.Client = f.Machine(t, "test")
	return f
}

// Machine adds a machine to the server and returns it with a client that
// polls every 20 ms and never retries. The client is closed when the test
// ends.
func (f *Fixture) Machine(t testing.TB, name string) (*sikkerkeytest.Machine, *sdk.Client) {
	t.Helper()
	m := f.Srv.AddMachine(name)
	client, err := m.Client(
		sdk.WithMinPollInterval(10*time.Millisecond),
		sdk.WithPollInterval(20*time.Millisecond),
		sdk.WithRetryBackoff(),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return m, client
}

// Count counts the server's requests by kind.
func (f *Fixture) Count() (gets, exports, polls int) {
	c := f.Srv.RequestCounts()
	return c.Reads, c.Exports, c.Polls
}

// Receive waits up to 5 s for a value on ch.
func Receive[T any](t testing.TB, ch <-chan T) T {
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

// Nothing fails if a value is waiting on ch or arrives within d.
func Nothing[T any](t testing.TB, ch <-chan T, d time.Duration) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %v", v)
	default:
	}
	select {
	case v := <-ch:
		t.Fatalf("unexpected %v", v)
	case <-time.After(d):
	}
}

// Slow is a callback that takes a while, to test that closing waits for a
// callback in progress.
type Slow struct {
	// Entered is closed when Run is first called.
	Entered  chan struct{}
	once     sync.Once
	finished atomic.Bool
}

// NewSlow returns a Slow that has not run.
func NewSlow() *Slow { return &Slow{Entered: make(chan struct{})} }

// Run closes Entered (the first time), sleeps 200 ms and records that it
// finished.
func (s *Slow) Run() {
	s.once.Do(func() { close(s.Entered) })
	time.Sleep(200 * time.Millisecond)
	s.finished.Store(true)
}

// Finished reports whether a Run has returned.
func (s *Slow) Finished() bool { return s.finished.Load() }

// ExampleServer starts an in-process SikkerKey server holding the
// structured secret sk_db_prod {host: db.internal, port: 5432, password:
// s3cret} and returns it with a client that polls every 20 ms. The caller
// closes both.
func ExampleServer() (*sikkerkeytest.Server, *sdk.Client) {
	srv := sikkerkeytest.NewServer()
	srv.PutFields("sk_db_prod", "Database", "", map[string]string{
		"host": "db.internal", "port": "5432", "password": "s3cret",
	})
	client, err := srv.AddMachine("example").Client(
		sdk.WithMinPollInterval(10*time.Millisecond), sdk.WithPollInterval(20*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	return srv, client
}
