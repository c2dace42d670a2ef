package sikkerkeykoanf

// This file is kept in step with adapters/viper/watch.go.

import (
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// coalesceWindow is how long a watcher waits after the first event of a
// poll round for the rest of that round (the client re-reads each changed
// secret before reporting it) so that the round becomes one notification.
const coalesceWindow = 100 * time.Millisecond

// batch is what a watcher hands on: the news of one poll round or of
// several close together.
type batch struct {
	// changed: at least one secret has a new value.
	changed bool
	// errs: failed polls or re-reads (the client keeps polling), deleted
	// secrets and lost access (the client stops watching those ids). Each
	// distinct message once, in arrival order.
	errs []error
	// final: a secret was deleted or access to it was lost.
	final bool
}

func (b batch) empty() bool { return !b.changed && len(b.errs) == 0 }

// watcher registers ids with the client's poller (one poll request per
// interval for every id the client watches) and delivers the news on its
// own goroutine, so that callbacks never block the poller.
type watcher struct {
	client     *sdk.Client
	ids        []string
	endOnFinal bool                  // unwatch everything after a final batch
	ctxDone    <-chan struct{}       // ends the watch when closed; may be nil
	deliver    func(*watcher, batch) // runs on the watcher goroutine

	mu      sync.Mutex
	pending batch

	wake     chan struct{} // capacity 1: news is pending
	stop     chan struct{} // closed by close
	done     chan struct{} // closed when run returns
	stopOnce sync.Once
	gid      atomic.Uint64 // id of the goroutine running deliver
}

// newWatcher returns a watcher for ids; start starts it.
func newWatcher(client *sdk.Client, ids []string, endOnFinal bool, ctxDone <-chan struct{}, deliver func(*watcher, batch)) *watcher {
	return &watcher{
		client:     client,
		ids:        ids,
		endOnFinal: endOnFinal,
		ctxDone:    ctxDone,
		deliver:    deliver,
		wake:       make(chan struct{}, 1),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
}

// start registers the ids with the client and starts the watcher's
// goroutine. On error nothing is registered and nothing runs; start must
// not be called again.
func (w *watcher) start() error {
	for i, id := range w.ids {
		if err := w.client.Watch(id, w.event); err != nil {
			for _, id := range w.ids[:i] {
				w.client.Unwatch(id)
			}
			return err
		}
	}
	go w.run()
	return nil
}

// event receives the client's watch events on the client's poll goroutine.
// It never blocks.
func (w *watcher) event(ev sdk.WatchEvent) {
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
		w.pending.changed = true
	} else if !containsMessage(w.pending.errs, err) {
		// A failed poll is reported once per watched id: keep one.
		w.pending.errs = append(w.pending.errs, err)
	}
	w.pending.final = w.pending.final || final
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

func (w *watcher) run() {
	defer close(w.done)
	w.gid.Store(goroutineID())
	window := time.NewTimer(coalesceWindow)
	window.Stop()
	defer window.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-w.ctxDone:
			w.unwatch()
			return
		case <-w.wake:
		}
		window.Reset(coalesceWindow)
		select {
		case <-w.stop:
			return
		case <-w.ctxDone:
			w.unwatch()
			return
		case <-window.C:
		}
		w.mu.Lock()
		b := w.pending
		w.pending = batch{}
		w.mu.Unlock()
		if b.empty() {
			continue
		}
		select {
		case <-w.stop:
			return
		default:
		}
		if b.final && w.endOnFinal {
			w.unwatch()
		}
		w.deliver(w, b)
		if b.final && w.endOnFinal {
			return
		}
	}
}

// unwatch removes the watcher's ids from the client's poller.
func (w *watcher) unwatch() {
	for _, id := range w.ids {
		w.client.Unwatch(id)
	}
}

// close stops the watcher: no delivery starts after it returns. It waits
// for a delivery in progress unless called from that delivery. It may be
// called more than once.
func (w *watcher) close() {
	w.stopOnce.Do(func() {
		w.unwatch()
		close(w.stop)
	})
	if !w.inDelivery() {
		<-w.done
	}
}

// stopped reports whether close was called.
func (w *watcher) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

// finished reports whether the watcher's goroutine has returned.
func (w *watcher) finished() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// inDelivery reports whether the caller runs on the watcher's goroutine.
func (w *watcher) inDelivery() bool {
	id := w.gid.Load()
	return id != 0 && id == goroutineID()
}

// goroutineID returns the current goroutine's id, so that close called
// from a callback knows not to wait for itself (as sdk.Client.Close does).
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) <= len(prefix) {
		return 0
	}
	b = b[len(prefix):]
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	id, _ := strconv.ParseUint(string(b[:i]), 10, 64)
	return id
}
