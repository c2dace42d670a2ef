package sdk_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// events collects watch events and lets a test wait for them.
type events struct {
	mu  sync.Mutex
	evs []sdk.WatchEvent
	ch  chan struct{}
}

func newEvents() *events { return &events{ch: make(chan struct{}, 1000)} }

func (e *events) add(ev sdk.WatchEvent) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
	e.ch <- struct{}{}
}

// wait returns once n events have arrived, failing after 10 s.
func (e *events) wait(t *testing.T, n int) []sdk.WatchEvent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		e.mu.Lock()
		if len(e.evs) >= n {
			out := append([]sdk.WatchEvent(nil), e.evs...)
			e.mu.Unlock()
			return out
		}
		e.mu.Unlock()
		select {
		case <-e.ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %d events; got %v", n, e.evs)
		}
	}
}

func TestWatchRotation(t *testing.T) {
	t.Parallel()
	srv, _, c := newServer(t)
	ctx := context.Background()
	srv.PutSecret("sk_plain", "plain", "", "v1")
	srv.PutFields("sk_db", "db", "", map[string]string{"host": "h1", "password": "p1"})
	for _, id := range []string{"sk_plain", "sk_db"} { // baseline: the machine has read them
		if _, err := c.GetSecret(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	ev := newEvents()
	if err := c.Watch("sk_plain", ev.add); err != nil {
		t.Fatal(err)
	}
	if err := c.Watch("sk_db", ev.add); err != nil {
		t.Fatal(err)
	}
	srv.Rotate("sk_plain", "v2")
	srv.Rotate("sk_db", `{"host":"h2","password":"p2","port":5432}`)
	got := ev.wait(t, 2)
	byID := map[string]sdk.WatchEvent{}
	for _, e := range got {
		byID[e.SecretID] = e
	}
	if e := byID["sk_plain"]; e.Status != sdk.WatchChanged || e.Value != "v2" || e.Fields != nil {
		t.Fatalf("plain event %+v", e)
	}
	if e := byID["sk_db"]; e.Status != sdk.WatchChanged || !reflect.DeepEqual(e.Fields, map[string]string{"host": "h2", "password": "p2", "port": "5432"}) {
		t.Fatalf("db event %+v", e)
	}
	// Each change is reported once: no more events after further polls.
	time.Sleep(100 * time.Millisecond)
	if n := len(ev.wait(t, 2)); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
}

func TestWatchOnePollPerInterval(t *testing.T) {
	t.Parallel()
	srv, _, c := newServer(t)
	for _, id := range []string{"sk_a", "sk_b", "sk_c"} {
		srv.PutSecret(id, id, "", "v")
		if err := c.Watch(id, func(sdk.WatchEvent) {}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(150 * time.Millisecond)
	c.Close()
	polls := 0
	for _, r := range srv.Requests() {
		if r.Path != "/v1/secrets/poll" {
			t.Fatalf("unexpected request %+v", r)
		}
		polls++
	}
	// 150 ms at 20 ms: about 7 polls, one request each for all three ids.
	if polls < 2 || polls > 9 {
		t.Fatalf("%d poll requests in 150 ms at a 20 ms interval", polls)
	}
}

func TestWatchDeletedAndAccessDenied(t *testing.T) {
	t.Parallel()
	srv, m, c := newServer(t)
	ctx := context.Background()
	srv.PutSecret("sk_del", "del", "", "v")
	srv.PutSecret("sk_rev", "rev", "", "v")
	for _, id := range []string{"sk_del", "sk_rev"} {
		if _, err := c.GetSecret(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	ev := newEvents()
	_ = c.Watch("sk_del", ev.add)
	_ = c.Watch("sk_rev", ev.add)
	srv.Delete("sk_del")
	srv.Revoke(m.ID(), "sk_rev")
	got := ev.wait(t, 2)
	statuses := map[string]sdk.WatchStatus{}
	for _, e := range got {
		statuses[e.SecretID] = e.Status
	}
	if statuses["sk_del"] != sdk.WatchDeleted || statuses["sk_rev"] != sdk.WatchAccessDenied {
		t.Fatalf("events %+v", got)
	}
	// Both ids are dropped, so the poller stops: no more requests.
	time.Sleep(60 * time.Millisecond)
	srv.ResetRequests()
	time.Sleep(100 * time.Millisecond)
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests after the last watch ended", n)
	}
	if n := len(ev.wait(t, 2)); n != 2 {
		t.Fatalf("%d events, want exactly 2", n)
	}
}

func TestWatchPollFailureGoesOn(t *testing.T) {
	t.Parallel()
	srv, _, c := newServer(t, sdk.WithRetryBackoff())
	ctx := context.Background()
	srv.PutSecret("sk_a", "a", "", "v1")
	srv.PutSecret("sk_b", "b", "", "v1")
	_, _ = c.GetSecret(ctx, "sk_a")
	_, _ = c.GetSecret(ctx, "sk_b")
	srv.FailNext(http.StatusInternalServerError)
	ev := newEvents()
	_ = c.Watch("sk_a", ev.add)
	_ = c.Watch("sk_b", ev.add)
	got := ev.wait(t, 2)
	for _, e := range got[:2] {
		if e.Status != sdk.WatchError || e.Err == nil {
			t.Fatalf("want an error event for every watcher, got %+v", got)
		}
	}
	srv.Rotate("sk_a", "v2")
	got = ev.wait(t, 3)
	if e := got[2]; e.Status != sdk.WatchChanged || e.SecretID != "sk_a" || e.Value != "v2" {
		t.Fatalf("polling did not go on: %+v", got)
	}
}

func TestWatchCallbackPanicIsRecovered(t *testing.T) {
	t.Parallel()
	srv, _, c := newServer(t)
	srv.PutSecret("sk_a", "a", "", "v1")
	_, _ = c.GetSecret(context.Background(), "sk_a")
	ev := newEvents()
	calls := 0
	_ = c.Watch("sk_a", func(e sdk.WatchEvent) {
		calls++
		ev.add(e)
		if calls == 1 {
			panic("boom " + e.Value)
		}
	})
	srv.Rotate("sk_a", "v2")
	ev.wait(t, 1)
	srv.Rotate("sk_a", "v3")
	if got := ev.wait(t, 2); got[1].Value != "v3" {
		t.Fatalf("events %+v", got)
	}
}

func TestWatchCallbackMayCallClientMethods(t *testing.T) {
	t.Parallel()
	srv, _, c := newServer(t)
	srv.PutSecret("sk_a", "a", "", "v1")
	srv.PutSecret("sk_b", "b", "", "v1")
	_, _ = c.GetSecret(context.Background(), "sk_a")
	_, _ = c.GetSecret(context.Background(), "sk_b")
	ev := newEvents()
	closed := make(chan error, 1)
	_ = c.Watch("sk_a", func(e sdk.WatchEvent) {
		ev.add(e)
		c.Unwatch("sk_a")                                  // the last id: the poller stops...
		if err := c.Watch("sk_b", func(e sdk.WatchEvent) { // ...and a new one starts
			ev.add(e)
			closed <- c.Close()
		}); err != nil {
			t.Error(err)
		}
	})
	srv.Rotate("sk_a", "v2")
	ev.wait(t, 1)
	srv.Rotate("sk_b", "v2")
	ev.wait(t, 2)
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close from a callback deadlocked")
	}
	if err := c.Watch("sk_a", func(sdk.WatchEvent) {}); !errors.Is(err, sdk.ErrClosed) {
		t.Fatalf("Watch after Close: %v", err)
	}
}

// Close from another goroutine while a callback runs waits for the poll
// goroutine (goleak in TestMain checks nothing is left).
func TestCloseWaitsForRunningCallback(t *testing.T) {
	t.Parallel()
	srv, _, c := newServer(t)
	srv.PutSecret("sk_a", "a", "", "v1")
	_, _ = c.GetSecret(context.Background(), "sk_a")
	entered := make(chan struct{})
	var finished sync.WaitGroup
	finished.Add(1)
	var done bool
	var mu sync.Mutex
	_ = c.Watch("sk_a", func(sdk.WatchEvent) {
		defer finished.Done()
		close(entered)
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		done = true
		mu.Unlock()
	})
	srv.Rotate("sk_a", "v2")
	<-entered
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !done {
		t.Fatal("Close returned while the callback was still running")
	}
	finished.Wait()
}

func TestSetPollIntervalClamps(t *testing.T) {
	t.Parallel()
	_, _, c := newServer(t)
	c.SetPollInterval(time.Millisecond)
	if got := c.PollInterval(); got != 5*time.Millisecond {
		t.Fatalf("interval %v, want the 5 ms floor", got)
	}
	srv, _, d := newServer(t, sdk.WithMinPollInterval(sdk.MinPollInterval))
	_ = srv
	d.SetPollInterval(time.Second)
	if got := d.PollInterval(); got != sdk.MinPollInterval {
		t.Fatalf("interval %v, want 10 s", got)
	}
	d.SetPollInterval(time.Minute)
	if got := d.PollInterval(); got != time.Minute {
		t.Fatalf("interval %v", got)
	}
}

func TestWatchUnknownStatusIsError(t *testing.T) {
	t.Parallel()
	_, c := newRawServer(t, jsonAnswer(200, `{"changes":{"sk_a":{"status":"exploded"}}}`),
		sdk.WithMinPollInterval(5*time.Millisecond), sdk.WithPollInterval(5*time.Millisecond))
	got, err := c.Poll(context.Background(), []string{"sk_a"})
	if err != nil || got["sk_a"] != "exploded" {
		t.Fatalf("Poll passes unknown statuses through: %v %v", got, err)
	}
	ev := newEvents()
	_ = c.Watch("sk_a", ev.add)
	e := ev.wait(t, 1)[0]
	if e.Status != sdk.WatchError || !errors.Is(e.Err, sdk.ErrInvalidResponse) || !strings.Contains(e.Err.Error(), "exploded") {
		t.Fatalf("event %+v", e)
	}
	c.Close()
}

// A deletion seen by the watcher also drops the offline cache entry, so a
// later outage cannot resurrect the deleted secret.
func TestWatchDeletionClearsCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv, _, c := newServer(t, sdk.WithCache(sdk.CacheOptions{Dir: dir}))
	srv.PutSecret("sk_gone", "gone", "", "v")
	if _, err := c.GetSecret(context.Background(), "sk_gone"); err != nil {
		t.Fatal(err)
	}
	entry := filepath.Join(dir, "sk_gone.skc")
	if _, err := os.Stat(entry); err != nil {
		t.Fatalf("no cache entry after a read: %v", err)
	}
	ev := newEvents()
	_ = c.Watch("sk_gone", ev.add)
	srv.Delete("sk_gone")
	if e := ev.wait(t, 1)[0]; e.Status != sdk.WatchDeleted {
		t.Fatalf("event %+v", e)
	}
	if _, err := os.Stat(entry); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("cache entry survived the deletion: %v", err)
	}
	srv.Seal()
	if _, err := c.GetSecret(context.Background(), "sk_gone"); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("sealed read of a deleted secret: %v", err)
	}
}

// A change whose re-read finds the secret gone (deleted after the poll, or
// the poll that said so was lost) ends the watch like a deletion.
func TestWatchChangedThenGone(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]sdk.WatchStatus{404: sdk.WatchDeleted, 403: sdk.WatchAccessDenied} {
		rs, c := newRawServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/secrets/poll" {
				jsonAnswer(200, `{"changes":{"sk_a":{"status":"changed"}}}`)(w, r)
				return
			}
			jsonAnswer(status, `{"error":"gone"}`)(w, r)
		}, sdk.WithMinPollInterval(5*time.Millisecond), sdk.WithPollInterval(5*time.Millisecond))
		ev := newEvents()
		_ = c.Watch("sk_a", ev.add)
		if e := ev.wait(t, 1)[0]; e.Status != want {
			t.Fatalf("%d: event %+v, want %s", status, e, want)
		}
		// The watch ended: the poller stops.
		time.Sleep(50 * time.Millisecond)
		n := rs.requests()
		time.Sleep(50 * time.Millisecond)
		if rs.requests() != n {
			t.Fatalf("%d: polling went on after the watch ended", status)
		}
		c.Close()
	}
}
