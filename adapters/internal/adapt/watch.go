package adapt

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/guard"
	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// CoalesceWindow is how long a Watcher waits after the first event of a
// poll round for the rest of that round (the client re-reads each changed
// secret before reporting it) so that the round becomes one Batch.
const CoalesceWindow = 100 * time.Millisecond

// Batch is what a Watcher delivers: the news of one poll round or of
// several close together. It is never empty: Changed is true or Errs holds
// at least one error.
type Batch struct {
	// Changed: at least one secret has a new value.
	Changed bool
	// Errs: failed polls or re-reads (the client keeps polling), deleted
	// secrets and lost access (the client stops watching those ids). Each
	// distinct message once, in arrival order. They name secret ids, never
	// values, and carry no adapter prefix.
	Errs []error
	// Final: a secret was deleted or access to it was lost.
	Final bool
}

func (b Batch) empty() bool { return !b.Changed && len(b.Errs) == 0 }

// WatchConfig says how a Watcher ends and where its batches go.
type WatchConfig struct {
	// EndOnFinal: after a Final batch the watcher takes every id of the set
	// off the client's poller, delivers that batch and returns (Finished
	// reports true once it has). Otherwise it goes on watching the ids the
	// client still watches.
	EndOnFinal bool
	// Done, when closed, ends the watch: the ids are taken off the poller
	// and nothing more is delivered. May be nil.
	Done <-chan struct{}
	// Deliver receives each batch on the watcher's goroutine, never
	// concurrently with itself. It may call Close and Wait on its watcher.
	Deliver func(*Watcher, Batch)
}

// Watcher registers a SecretSet's ids with the client's poller (one poll
// request per interval for every id the client watches) and delivers the
// news on its own goroutine, so that callbacks never block the poller.
// Create it with SecretSet.Watch.
type Watcher struct {
	client *sdk.Client
	ids    []string
	cfg    WatchConfig

	mu      sync.Mutex
	pending Batch

	wake     chan struct{} // capacity 1: news is pending
	stop     chan struct{} // closed by Close
	done     chan struct{} // closed when run returns
	stopOnce sync.Once
	gid      atomic.Uint64 // id of the goroutine running Deliver
}

// Watch registers the set's ids with the client and starts a Watcher that
// delivers their news to cfg.Deliver. On error (sdk.ErrClosed for a closed
// client, for example) nothing is registered and nothing runs.
//
// The client keeps one watch callback per secret id, so two watchers (or a
// watcher and other code) on the same client must not watch the same id.
func (s *SecretSet) Watch(cfg WatchConfig) (*Watcher, error) {
	w := &Watcher{
		client: s.client,
		ids:    s.ids,
		cfg:    cfg,
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for i, id := range w.ids {
		if err := w.client.Watch(id, w.event); err != nil {
			for _, id := range w.ids[:i] {
				w.client.Unwatch(id)
			}
			return nil, err
		}
	}
	go w.run()
	return w, nil
}

// event receives the client's watch events on the client's poll goroutine.
// It never blocks.
func (w *Watcher) event(ev sdk.WatchEvent) {
	var err error
	final := false
	switch ev.Status {
	case sdk.WatchChanged:
	case sdk.WatchDeleted:
		err, final = fmt.Errorf("secret %s was deleted in SikkerKey: %w", ev.SecretID, sdk.ErrNotFound), true
	case sdk.WatchAccessDenied:
		err, final = fmt.Errorf("this machine lost access to secret %s; grant it again in SikkerKey: %w", ev.SecretID, sdk.ErrAccessDenied), true
	default: // sdk.WatchError
		err = ev.Err
		if err == nil {
			err = fmt.Errorf("watching secret %s: unknown watch status %q", ev.SecretID, ev.Status)
		}
	}
	w.mu.Lock()
	if err == nil {
		w.pending.Changed = true
	} else if !containsMessage(w.pending.Errs, err) {
		// A failed poll is reported once per watched id: keep one.
		w.pending.Errs = append(w.pending.Errs, err)
	}
	w.pending.Final = w.pending.Final || final
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func containsMessage(errs []error, err error) bool {
	for _, e := range errs {
		if e.Error() == err.Error() {
			return true
		}
	}
	return false
}

func (w *Watcher) run() {
	defer close(w.done)
	w.gid.Store(guard.GoroutineID())
	window := time.NewTimer(CoalesceWindow)
	window.Stop()
	defer window.Stop()
	for {
		if !await(w, w.wake) {
			return
		}
		window.Reset(CoalesceWindow)
		if !await(w, window.C) {
			return
		}
		w.mu.Lock()
		b := w.pending
		w.pending = Batch{}
		w.mu.Unlock()
		if b.empty() {
			continue
		}
		select {
		case <-w.stop:
			return
		default:
		}
		end := b.Final && w.cfg.EndOnFinal
		if end {
			w.unwatch()
		}
		w.cfg.Deliver(w, b)
		if end {
			return
		}
	}
}

// await waits for a value on ch and reports true, or reports false when
// the watch ends first: Close was called, or Done was closed (then it takes
// the ids off the poller).
func await[T any](w *Watcher, ch <-chan T) bool {
	select {
	case <-w.stop:
		return false
	case <-w.cfg.Done:
		w.unwatch()
		return false
	case <-ch:
		return true
	}
}

// unwatch removes the watcher's ids from the client's poller.
func (w *Watcher) unwatch() {
	for _, id := range w.ids {
		w.client.Unwatch(id)
	}
}

// Close stops the watcher: it takes the ids off the client's poller, and no
// delivery starts after it returns. It waits for a delivery in progress (see
// Wait). It may be called more than once, from any goroutine.
func (w *Watcher) Close() {
	w.stopOnce.Do(func() {
		w.unwatch()
		close(w.stop)
	})
	w.Wait()
}

// Wait waits until the watcher's goroutine has returned, unless called from
// a delivery, which must not wait for itself: there it returns at once.
func (w *Watcher) Wait() {
	if !w.inDelivery() {
		<-w.done
	}
}

// Closed returns a channel that is closed when Close is called.
func (w *Watcher) Closed() <-chan struct{} { return w.stop }

// IsClosed reports whether Close was called.
func (w *Watcher) IsClosed() bool { return isDone(w.stop) }

// Finished reports whether the watcher's goroutine has returned: after
// Close, after Done was closed, or after the Final batch with EndOnFinal.
func (w *Watcher) Finished() bool { return isDone(w.done) }

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// inDelivery reports whether the caller runs on the watcher's goroutine.
func (w *Watcher) inDelivery() bool {
	id := w.gid.Load()
	return id != 0 && id == guard.GoroutineID()
}
