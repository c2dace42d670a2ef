package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/guard"
)

// WatchEvent is delivered to a Watch callback.
type WatchEvent struct {
	SecretID string
	Status   WatchStatus
	// Value is the new value (WatchChanged only).
	Value string
	// Fields holds the fields when the new value is a JSON object, else nil
	// (WatchChanged only).
	Fields map[string]string
	// Err says what went wrong (WatchError only).
	Err error
}

// watchState is the client's single poller: one goroutine, started by the
// first Watch and stopped by the last Unwatch or Close, polling every
// watched id in one request per interval.
type watchState struct {
	mu       sync.Mutex
	fns      map[string]func(WatchEvent)
	interval time.Duration
	closed   bool
	cancel   context.CancelFunc // stops the running loop; nil when none
	wg       sync.WaitGroup     // running loops
	// loopGoroutine is the id of the goroutine running callbacks, so Close
	// called from a callback knows not to wait for itself.
	loopGoroutine atomic.Uint64
}

func (w *watchState) init(interval time.Duration) {
	w.fns = map[string]func(WatchEvent){}
	w.interval = interval
}

// Watch calls fn when the secret changes, is deleted, or access to it is
// lost, or when polling fails (WatchError; polling goes on). One callback per
// id: a second Watch of the same id replaces the first. After WatchDeleted
// or WatchAccessDenied the id is no longer watched. Callbacks run one at a
// time on the poll goroutine; a panic in one is recovered and logged. A
// callback may call Watch, Unwatch and Close. The first poll happens one
// interval after the poller starts. A change is never lost but may be
// reported twice: after a poll whose answer may have been lost, every
// watched secret is read again and reported changed (see Poll).
func (c *Client) Watch(id string, fn func(WatchEvent)) error {
	if err := checkID(id); err != nil {
		return err
	}
	if fn == nil {
		return configError("Watch needs a callback")
	}
	w := &c.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.fns[id] = fn
	if w.cancel == nil {
		ctx, cancel := context.WithCancel(context.Background())
		w.cancel = cancel
		w.wg.Add(1)
		go c.pollLoop(ctx)
	}
	return nil
}

// Unwatch stops watching id. The poll goroutine stops when no id is left.
func (c *Client) Unwatch(id string) {
	w := &c.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.fns, id)
	w.stopIfIdleLocked()
}

func (w *watchState) stopIfIdleLocked() {
	if len(w.fns) == 0 && w.cancel != nil {
		w.cancel()
		w.cancel = nil
	}
}

// SetPollInterval sets the time between two polls (default 15 s), clamped
// to the minimum (MinPollInterval unless WithMinPollInterval says
// otherwise). It takes effect from the next wait.
func (c *Client) SetPollInterval(d time.Duration) {
	c.watch.mu.Lock()
	c.watch.interval = max(d, c.opts.minPoll)
	c.watch.mu.Unlock()
}

// PollInterval returns the current time between two polls.
func (c *Client) PollInterval() time.Duration {
	c.watch.mu.Lock()
	defer c.watch.mu.Unlock()
	return c.watch.interval
}

// MinPollInterval returns the floor poll intervals are clamped to.
func (c *Client) MinPollInterval() time.Duration { return c.opts.minPoll }

func (w *watchState) close() {
	w.mu.Lock()
	w.closed = true
	clear(w.fns)
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
	}
	w.mu.Unlock()
	if w.loopGoroutine.Load() != 0 && w.loopGoroutine.Load() == guard.GoroutineID() {
		return // called from a callback: the loop exits when it returns
	}
	w.wg.Wait()
}

func (c *Client) pollLoop(ctx context.Context) {
	w := &c.watch
	defer w.wg.Done()
	w.loopGoroutine.Store(guard.GoroutineID())
	defer w.loopGoroutine.Store(0)
	timer := time.NewTimer(c.PollInterval())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		c.pollOnce(ctx)
		timer.Reset(c.PollInterval())
	}
}

// pollOnce polls every watched id and delivers the events, in id order.
func (c *Client) pollOnce(ctx context.Context) {
	w := &c.watch
	w.mu.Lock()
	ids := make([]string, 0, len(w.fns))
	for id := range w.fns {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	sort.Strings(ids)
	statuses, err := c.Poll(ctx, ids)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("sikkerkey: poll failed; polling goes on", "error", err.Error())
		for _, id := range ids {
			c.deliver(WatchEvent{SecretID: id, Status: WatchError, Err: err}, false)
		}
		return
	}
	for _, id := range ids {
		status, ok := statuses[id]
		if !ok || ctx.Err() != nil {
			continue
		}
		switch status {
		case WatchChanged:
			value, err := c.GetSecret(ctx, id)
			switch {
			case err == nil:
			case ctx.Err() != nil:
				return
			case errors.Is(err, ErrNotFound), errors.Is(err, ErrAccessDenied):
				// Deleted or revoked after the change, or the poll that said
				// so was lost (see Poll): the watch ends as it would have.
				status := WatchDeleted
				if errors.Is(err, ErrAccessDenied) {
					status = WatchAccessDenied
				}
				c.deliver(WatchEvent{SecretID: id, Status: status}, true)
				continue
			default:
				c.deliver(WatchEvent{SecretID: id, Status: WatchError, Err: fmt.Errorf("reading changed secret %s: %w", id, err)}, false)
				continue
			}
			ev := WatchEvent{SecretID: id, Status: WatchChanged, Value: value}
			ev.Fields, _ = parseFields(id, value)
			c.deliver(ev, false)
		case WatchDeleted, WatchAccessDenied:
			if c.cache != nil { // deletion and revocation must win over the offline cache
				_ = c.cache.remove(id)
			}
			c.deliver(WatchEvent{SecretID: id, Status: status}, true)
		default:
			c.deliver(WatchEvent{SecretID: id, Status: WatchError,
				Err: fmt.Errorf("%w: unknown poll status %q for secret %s", ErrInvalidResponse, truncate(string(status), 64), id)}, false)
		}
	}
}

// deliver calls the id's current callback, if it is still watched, outside
// the lock. A final event (deleted, access denied) drops the id first, and
// stops the poller when it was the last one.
func (c *Client) deliver(ev WatchEvent, final bool) {
	w := &c.watch
	w.mu.Lock()
	fn := w.fns[ev.SecretID]
	if final {
		delete(w.fns, ev.SecretID)
		w.stopIfIdleLocked()
	}
	w.mu.Unlock()
	if fn != nil {
		c.callback(fn, ev)
	}
}

func (c *Client) callback(fn func(WatchEvent), ev WatchEvent) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("sikkerkey: watch callback panicked; polling goes on",
				slog.String("secret", ev.SecretID), slog.String("status", string(ev.Status)),
				slog.String("panic", guard.DescribePanic(r)))
		}
	}()
	fn(ev)
}
