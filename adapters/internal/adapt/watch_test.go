package adapt_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/adapters/internal/adapt"
	"github.com/sikkerkey-go/sikkerkey/adapters/internal/adapt/adapttest"
	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// watch reads ids once through f.Client (so that the poller knows their
// versions) and starts a watcher over them that sends its batches to the
// returned channel. cfg.Deliver, when set, runs after the send. The watcher
// is closed when the test ends.
func watch(t *testing.T, f *adapttest.Fixture, ids []string, cfg adapt.WatchConfig) (*adapt.Watcher, chan adapt.Batch) {
	t.Helper()
	s := newSet(t, f.Client, ids, nil)
	if _, err := s.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	batches := make(chan adapt.Batch, 100)
	then := cfg.Deliver
	cfg.Deliver = func(w *adapt.Watcher, b adapt.Batch) {
		batches <- b
		if then != nil {
			then(w, b)
		}
	}
	w, err := s.Watch(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w, batches
}

// pollsStop fails unless the client has stopped polling.
func pollsStop(t *testing.T, f *adapttest.Fixture, what string) {
	t.Helper()
	time.Sleep(50 * time.Millisecond) // a poll in flight may still land
	_, _, before := f.Count()
	f.Srv.Rotate("sk_api_key", "k-poll-check")
	time.Sleep(200 * time.Millisecond)
	if _, _, after := f.Count(); after != before {
		t.Fatalf("%d polls after %s", after-before, what)
	}
}

func TestWatchDeliversRotation(t *testing.T) {
	f := adapttest.NewFixture(t)
	w, batches := watch(t, f, []string{"sk_db_prod", "sk_api_key"}, adapt.WatchConfig{})
	f.Srv.Rotate("sk_api_key", "k-456")
	if b := adapttest.Receive(t, batches); !b.Changed || len(b.Errs) != 0 || b.Final {
		t.Fatalf("batch %+v, want a change only", b)
	}
	if w.IsClosed() || w.Finished() {
		t.Fatal("the watcher stopped after a change")
	}
}

func TestWatchCoalescesARound(t *testing.T) {
	f := adapttest.NewFixture(t)
	_, batches := watch(t, f, []string{"sk_db_prod", "sk_api_key", "sk_list"}, adapt.WatchConfig{})
	f.Srv.Rotate("sk_api_key", "k-456")
	f.Srv.Rotate("sk_list", "[]")
	if b := adapttest.Receive(t, batches); !b.Changed || len(b.Errs) != 0 {
		t.Fatalf("batch %+v, want a change only", b)
	}
	adapttest.Nothing(t, batches, 3*adapt.CoalesceWindow)
}

func TestWatchPollRequestsAreBatched(t *testing.T) {
	f := adapttest.NewFixture(t)
	s := newSet(t, f.Client, []string{"sk_db_prod", "sk_api_key", "sk_list"}, nil)
	f.Srv.ResetRequests()
	w, err := s.Watch(adapt.WatchConfig{Deliver: func(*adapt.Watcher, adapt.Batch) {}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	w.Close()
	// Three watched secrets, one poll request per 20 ms interval.
	if _, _, polls := f.Count(); polls == 0 || polls > 8 {
		t.Fatalf("%d poll requests in 150ms at a 20ms interval for 3 secrets", polls)
	}
}

func TestWatchPollErrorKeepsWatching(t *testing.T) {
	f := adapttest.NewFixture(t)
	_, batches := watch(t, f, []string{"sk_db_prod", "sk_api_key"}, adapt.WatchConfig{EndOnFinal: true})
	f.Srv.FailNext(500)
	b := adapttest.Receive(t, batches)
	// One failed poll of two secrets is one error. (The next poll reports
	// both secrets changed, since the failed one may have taken news with
	// it: see sdk.Client.Poll. That may land in the same batch.)
	if b.Final || len(b.Errs) != 1 || errors.Is(b.Errs[0], sdk.ErrNotFound) {
		t.Fatalf("batch %+v, want one poll error", b)
	}
	f.Srv.Rotate("sk_api_key", "k-456")
	if b := adapttest.Receive(t, batches); !b.Changed || len(b.Errs) != 0 {
		t.Fatalf("after a poll error: batch %+v, want the rotation", b)
	}
}

func TestWatchDeletedEndOnFinal(t *testing.T) {
	f := adapttest.NewFixture(t)
	w, batches := watch(t, f, []string{"sk_db_prod", "sk_api_key"}, adapt.WatchConfig{EndOnFinal: true})
	f.Srv.Delete("sk_api_key")
	b := adapttest.Receive(t, batches)
	if !b.Final || len(b.Errs) != 1 || !errors.Is(b.Errs[0], sdk.ErrNotFound) || !strings.Contains(b.Errs[0].Error(), "sk_api_key") {
		t.Fatalf("batch %+v, want a final deleted error naming sk_api_key", b)
	}
	if strings.Contains(b.Errs[0].Error(), "k-123-secret") {
		t.Fatalf("error %q contains the value", b.Errs[0])
	}
	// The watch is over: the other secret is no longer watched.
	w.Wait()
	if !w.Finished() || w.IsClosed() {
		t.Fatalf("after the final batch: Finished() = %v, IsClosed() = %v; want true, false", w.Finished(), w.IsClosed())
	}
	f.Srv.RotateFields("sk_db_prod", map[string]string{"host": "x"})
	adapttest.Nothing(t, batches, 200*time.Millisecond)
	pollsStop(t, f, "the final batch")
}

func TestWatchDeletedGoesOn(t *testing.T) {
	f := adapttest.NewFixture(t)
	w, batches := watch(t, f, []string{"sk_db_prod", "sk_api_key"}, adapt.WatchConfig{})
	f.Srv.Delete("sk_api_key")
	if b := adapttest.Receive(t, batches); !b.Final || len(b.Errs) != 1 || !errors.Is(b.Errs[0], sdk.ErrNotFound) {
		t.Fatalf("batch %+v, want a final deleted error", b)
	}
	f.Srv.RotateFields("sk_db_prod", map[string]string{"host": "x"})
	if b := adapttest.Receive(t, batches); !b.Changed || b.Final || len(b.Errs) != 0 {
		t.Fatalf("batch %+v, want the rotation of the other secret", b)
	}
	if w.Finished() {
		t.Fatal("the watcher returned without EndOnFinal")
	}
}

func TestWatchAccessDenied(t *testing.T) {
	f := adapttest.NewFixture(t)
	m, client := f.Machine(t, "other")
	_, batches := watch(t, &adapttest.Fixture{Srv: f.Srv, Client: client}, []string{"sk_api_key"}, adapt.WatchConfig{EndOnFinal: true})
	f.Srv.Revoke(m.ID(), "sk_api_key")
	b := adapttest.Receive(t, batches)
	if !b.Final || len(b.Errs) != 1 || !errors.Is(b.Errs[0], sdk.ErrAccessDenied) || !strings.Contains(b.Errs[0].Error(), "sk_api_key") {
		t.Fatalf("batch %+v, want a final access denied error naming sk_api_key", b)
	}
}

func TestWatchEndsWhenDone(t *testing.T) {
	f := adapttest.NewFixture(t)
	done := make(chan struct{})
	w, batches := watch(t, f, []string{"sk_api_key"}, adapt.WatchConfig{Done: done})
	time.Sleep(50 * time.Millisecond)
	close(done)
	w.Wait()
	if !w.Finished() || w.IsClosed() {
		t.Fatalf("after Done: Finished() = %v, IsClosed() = %v; want true, false", w.Finished(), w.IsClosed())
	}
	pollsStop(t, f, "Done was closed")
	adapttest.Nothing(t, batches, 0)
}

func TestWatchClose(t *testing.T) {
	f := adapttest.NewFixture(t)
	w, batches := watch(t, f, []string{"sk_db_prod", "sk_api_key"}, adapt.WatchConfig{})
	time.Sleep(100 * time.Millisecond)
	if _, _, polls := f.Count(); polls == 0 {
		t.Fatal("no poll while watching")
	}
	w.Close()
	select {
	case <-w.Closed():
	default:
		t.Fatal("Closed() is open after Close")
	}
	if !w.IsClosed() || !w.Finished() {
		t.Fatalf("after Close: IsClosed() = %v, Finished() = %v", w.IsClosed(), w.Finished())
	}
	w.Close() // again
	pollsStop(t, f, "Close")
	adapttest.Nothing(t, batches, 0)
}

func TestWatchCloseWaitsForDelivery(t *testing.T) {
	f := adapttest.NewFixture(t)
	slow := adapttest.NewSlow()
	w, _ := watch(t, f, []string{"sk_api_key"}, adapt.WatchConfig{Deliver: func(*adapt.Watcher, adapt.Batch) { slow.Run() }})
	f.Srv.Rotate("sk_api_key", "k-456")
	<-slow.Entered
	w.Close()
	if !slow.Finished() {
		t.Fatal("Close returned while a delivery was running")
	}
}

func TestWatchCloseFromDelivery(t *testing.T) {
	f := adapttest.NewFixture(t)
	returned := make(chan bool, 1)
	w, _ := watch(t, f, []string{"sk_api_key"}, adapt.WatchConfig{Deliver: func(w *adapt.Watcher, _ adapt.Batch) {
		w.Close()
		w.Wait()
		returned <- w.IsClosed()
	}})
	f.Srv.Rotate("sk_api_key", "k-456")
	if closed := adapttest.Receive(t, returned); !closed {
		t.Fatal("IsClosed() = false after Close in a delivery")
	}
	w.Wait()
	if !w.Finished() {
		t.Fatal("the watcher's goroutine did not return")
	}
}

func TestWatchOnClosedClient(t *testing.T) {
	f := adapttest.NewFixture(t)
	s := newSet(t, f.Client, []string{"sk_api_key", "sk_list"}, nil)
	_ = f.Client.Close()
	w, err := s.Watch(adapt.WatchConfig{Deliver: func(*adapt.Watcher, adapt.Batch) {}})
	if w != nil || !errors.Is(err, sdk.ErrClosed) {
		t.Fatalf("Watch on a closed client = %v, %v; want nil, sdk.ErrClosed", w, err)
	}
}
