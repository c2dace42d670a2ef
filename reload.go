package sikkerkey

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/guard"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/source"
)

// ErrClosed is returned by Refresh after Close.
var ErrClosed = errors.New("sikkerkey: watcher closed")

// Watcher holds a configuration that follows its secrets: when a source
// reports a change, the affected secrets are fetched again, a new *T is
// decoded and validated, and it replaces the current one in one atomic
// swap. Readers never see a torn or half-decoded configuration, and a
// configuration once returned by Current is never modified.
//
// All methods are safe for concurrent use.
type Watcher[T any] struct {
	l   *loader
	cur atomic.Pointer[T]

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines
	done   chan struct{}  // closed when every goroutine is gone

	reloadMu sync.Mutex // serialises reloads
	snap     snapshot   // what the sources last said, guarded by reloadMu

	mu        sync.Mutex
	changeFns []handler[func(old, new *T)]
	errorFns  []handler[func(error)]
	nextID    uint64
	queue     []event[T]             // for the dispatcher, in order
	pending   map[int]*pendingChange // from source watchers, merged
	wake      chan struct{}          // dispatcher: the queue has events
	changed   chan struct{}          // applier: pending has changes
	dispGoID  atomic.Uint64          // goroutine id of the dispatcher
	closeOnce sync.Once
}

type handler[F any] struct {
	id uint64
	fn F
}

// event is a published change (old, new) or an error for OnError.
type event[T any] struct {
	old, new *T
	err      error
}

// pendingChange accumulates what a watching source reported.
type pendingChange struct {
	changed map[string]bool
	gone    map[string]error
}

// Watch loads a configuration like Load, then keeps it current until Close
// is called or ctx is cancelled: ctx must live as long as the watcher.
// If the first load fails, Watch returns its error and nothing keeps
// running.
//
// Sources are followed as they allow:
//
//   - SikkerKey (a source.Poller) is polled with one request per interval
//     for every secret id the configuration references (WithPollInterval,
//     default 15 s, at least the client's minimum of 10 s). The first poll
//     comes at a random point of the first interval and later ones every
//     interval plus up to 10%, so a fleet started together does not poll in
//     lockstep; after a failure polling backs off, and a rate limit's
//     Retry-After is honoured. Only the secrets reported changed are read
//     again (all of them after a poll whose answer may have been lost: see
//     sdk.Client.Poll). A secret that is deleted, or that the machine loses
//     access to, is an error for a required field (the configuration is
//     kept) and falls back to the default (or zero) value for an optional
//     one; such a secret, and one whose re-read failed, is read again at
//     every poll until it is back, since the server reports each change
//     only once. (An optional secret that did not exist at the first load
//     is looked for again by Refresh, and by polls once the server reports
//     it deleted.)
//   - File and Dir (source.Watcher) reload through fsnotify, once per burst
//     of events; a deleted file is an error, not an empty configuration.
//   - Env, Map and other static sources are read again only by Refresh.
//
// A new configuration is published only when it differs from the current
// one (reflect.DeepEqual), decodes without error and passes Validate;
// otherwise the current configuration stays and OnError is told why. Every
// configuration is decoded from scratch, from the zero value of T.
func Watch[T any](ctx context.Context, opts ...Option) (*Watcher[T], error) {
	l, err := newLoader(reflect.TypeFor[T](), opts)
	if err != nil {
		return nil, err
	}
	snap, err := l.fetchAll(ctx)
	if err == nil {
		var first *T
		if first, err = decodeValidate[T](l, snap); err == nil {
			w := &Watcher[T]{
				l:       l,
				snap:    snap,
				done:    make(chan struct{}),
				wake:    make(chan struct{}, 1),
				changed: make(chan struct{}, 1),
			}
			w.cur.Store(first)
			w.start(ctx)
			return w, nil
		}
	}
	l.close()
	return nil, err
}

// decodeValidate builds a new configuration from snap and validates it.
func decodeValidate[T any](l *loader, snap snapshot) (*T, error) {
	out, err := l.build(snap, reflect.Value{})
	if err != nil {
		return nil, err
	}
	cfg := out.Interface().(*T)
	if err := validate(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// start runs the background goroutines.
func (w *Watcher[T]) start(ctx context.Context) {
	w.ctx, w.cancel = context.WithCancel(ctx)
	// The client logs each fallback itself; OnError hears of it too.
	report := func(err error) { w.enqueue(event[T]{err: err}) }
	w.l.fallbacks.report.Store(&report)
	w.goroutine(w.dispatch)
	w.goroutine(w.applyPending)
	ids := w.l.plan.ids
	for i, s := range w.l.sources {
		if len(ids) == 0 {
			break
		}
		if p, ok := s.(source.Poller); ok {
			w.goroutine(func() { w.pollLoop(i, p) })
		}
		if sw, ok := s.(source.Watcher); ok {
			w.goroutine(func() {
				err := sw.Watch(w.ctx, slices.Clone(ids), func(c source.Change) { w.notify(i, c) })
				if err != nil && w.ctx.Err() == nil {
					w.report(fmt.Errorf("sikkerkey: watching %s stopped: %w", w.l.sourceName(i), err))
				}
			})
		}
	}
	go func() {
		<-w.ctx.Done()
		w.wg.Wait()
		w.l.close()
		close(w.done)
	}()
}

func (w *Watcher[T]) goroutine(f func()) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		f()
	}()
}

// Current returns the current configuration: never nil, never modified
// after it is returned (treat it as read-only). It does not lock or
// allocate.
func (w *Watcher[T]) Current() *T { return w.cur.Load() }

// OnChange registers fn to be called with the old and new configuration
// after each published change. Calls are made one at a time, in the order
// the changes were published, from a goroutine of the watcher and outside
// any lock, so fn may call Current, Refresh or Close; fn should return
// promptly, since later changes wait for it. A panic in fn is recovered and
// reported to OnError. No call is made for a reload that produced an
// identical configuration. The returned func removes fn.
func (w *Watcher[T]) OnChange(fn func(old, new *T)) (remove func()) {
	return register(w, &w.changeFns, fn)
}

// OnError registers fn to be called with each background failure: a
// reload whose values do not decode or validate, a source failure, a
// deleted or inaccessible required secret, a failed poll. Errors never
// contain secret values. Calls are made like OnChange's, in the same
// order. The returned func removes fn.
func (w *Watcher[T]) OnError(fn func(err error)) (remove func()) {
	return register(w, &w.errorFns, fn)
}

func register[T any, F any](w *Watcher[T], list *[]handler[F], fn F) func() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.nextID++
	id := w.nextID
	*list = append(*list, handler[F]{id: id, fn: fn})
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		*list = slices.DeleteFunc(*list, func(h handler[F]) bool { return h.id == id })
	}
}

// Refresh reads every secret from every source now (SIGHUP, say) and
// publishes the result like any other reload. It returns the error instead
// of reporting it to OnError; the current configuration stays on error.
func (w *Watcher[T]) Refresh(ctx context.Context) error {
	if w.ctx.Err() != nil {
		return ErrClosed
	}
	w.reloadMu.Lock()
	defer w.reloadMu.Unlock()
	snap, err := w.l.fetchAll(ctx)
	if err != nil {
		return err
	}
	// Remember which secrets a source dropped, so polls keep checking for
	// their return (the server does not report it).
	for id, r := range snap {
		if old := w.snap[id]; r.src < 0 && old.gone != nil {
			r.gone, r.goneSrc = old.gone, old.goneSrc
		}
	}
	w.snap = snap
	return w.publish()
}

// Close stops the watcher: it cancels what is in flight and waits until
// every goroutine and file watch has ended (a callback that is running is
// waited for), then closes the SikkerKey client the watcher made itself.
// No callback starts after Close returns. Close is idempotent and returns
// nil. Called from an OnChange or OnError callback, it cannot wait for
// that callback: it returns at once, and the watcher finishes stopping
// when the callback returns. Cancelling the ctx given to Watch stops the
// watcher the same way.
func (w *Watcher[T]) Close() error {
	w.closeOnce.Do(w.cancel)
	if w.dispGoID.Load() == guard.GoroutineID() {
		return nil
	}
	<-w.done
	return nil
}

// notify records a change from a watching source for the applier.
func (w *Watcher[T]) notify(i int, c source.Change) {
	w.mu.Lock()
	if w.pending == nil {
		w.pending = map[int]*pendingChange{}
	}
	p := w.pending[i]
	if p == nil {
		p = &pendingChange{changed: map[string]bool{}, gone: map[string]error{}}
		w.pending[i] = p
	}
	for _, id := range c.Changed {
		p.changed[id] = true
		delete(p.gone, id)
	}
	for id, reason := range c.Gone {
		p.gone[id] = reason
		delete(p.changed, id)
	}
	w.mu.Unlock()
	signal(w.changed)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// applyPending applies what watching sources reported, one reload per
// source and batch.
func (w *Watcher[T]) applyPending() {
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.changed:
		}
		w.mu.Lock()
		pending := w.pending
		w.pending = nil
		w.mu.Unlock()
		for _, i := range slices.Sorted(maps.Keys(pending)) {
			p := pending[i]
			c := source.Change{Changed: slices.Sorted(maps.Keys(p.changed)), Gone: p.gone}
			if err := w.apply(w.ctx, i, c); err != nil && w.ctx.Err() == nil {
				w.report(err)
			}
		}
	}
}

// pollLoop polls source i on the schedule until the watcher stops.
func (w *Watcher[T]) pollLoop(i int, p source.Poller) {
	interval := w.l.opts.pollInterval
	if mp, ok := p.(interface{ MinPollInterval() time.Duration }); ok {
		interval = max(interval, mp.MinPollInterval())
	}
	sched := newSchedule(interval, w.l.opts.jitter)
	timer := time.NewTimer(sched.first())
	defer timer.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-timer.C:
		}
		err := w.pollOnce(w.ctx, i, p)
		if w.ctx.Err() != nil {
			return
		}
		timer.Reset(sched.next(err))
	}
}

// pollOnce makes one poll of source i and applies what it reports. Two
// kinds of ids are read again even when the poll does not mention them,
// because the server reports each change once: ids whose last read from
// this source failed (a rotation whose re-read failed is not lost), and
// ids this source reported deleted or inaccessible (their return is not
// reported). It returns the poll's error, which decides the next wait;
// reload failures go to OnError.
func (w *Watcher[T]) pollOnce(ctx context.Context, i int, p source.Poller) error {
	c, err := p.Poll(ctx, w.l.plan.ids)
	if err != nil {
		if ctx.Err() == nil {
			w.report(fmt.Errorf("sikkerkey: polling %s: %w", w.l.sourceName(i), err))
		}
		return err
	}
	w.reloadMu.Lock()
	for id, r := range w.snap {
		retry := (r.src == i && r.err != nil) || (r.src < 0 && r.gone != nil && r.goneSrc == i)
		if retry && !slices.Contains(c.Changed, id) && c.Gone[id] == nil {
			c.Changed = append(c.Changed, id)
		}
	}
	w.reloadMu.Unlock()
	if c.Empty() {
		return nil
	}
	if err := w.apply(ctx, i, c); err != nil && ctx.Err() == nil {
		w.report(err)
	}
	return nil
}

// apply re-resolves the ids source i reported and publishes the result. A
// report that changes nothing the sources say is dropped, so a failure is
// reported once, not at every poll.
func (w *Watcher[T]) apply(ctx context.Context, i int, c source.Change) error {
	w.reloadMu.Lock()
	defer w.reloadMu.Unlock()
	snap := w.snap.clone()
	// A change matters only where no source before i supplies the id.
	shadowed := func(id string) bool {
		r, ok := snap[id]
		return !ok || (r.src >= 0 && r.src < i)
	}
	var changed, gone []string
	for _, id := range c.Changed {
		if !shadowed(id) {
			// Keep why the id went away until a source has it again.
			old := snap[id]
			snap[id] = &resolved{src: -1, gone: old.gone, goneSrc: old.goneSrc}
			changed = append(changed, id)
		}
	}
	for id, reason := range c.Gone {
		if !shadowed(id) {
			snap[id] = &resolved{src: -1, gone: reason, goneSrc: i}
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	if err := w.l.resolve(ctx, w.l.requests(changed), i, snap); err != nil {
		return err
	}
	// A secret a poller reported changed that no source has now was deleted
	// after the report, or the report of its deletion was lost (a poll
	// answer lost on the way is reported as a change of every secret: see
	// sdk.Client.Poll). The server reports neither the deletion again nor
	// the secret's return, so treat it as a reported deletion: it is read
	// again at every poll until it is back.
	if _, polled := w.l.sources[i].(source.Poller); polled {
		for _, id := range changed {
			if r := snap[id]; r.src < 0 && r.gone == nil {
				r.gone = fmt.Errorf("secret %s is no longer in %s: %w", id, w.l.sourceName(i), sdk.ErrNotFound)
				r.goneSrc = i
			}
		}
	}
	if err := w.l.resolve(ctx, w.l.requests(gone), i+1, snap); err != nil {
		return err
	}
	same := true
	for _, id := range append(changed, gone...) {
		same = same && snap[id].same(w.snap[id])
	}
	if same {
		return nil
	}
	w.snap = snap
	return w.publish()
}

// publish decodes w.snap and, when the result is valid and differs from
// the current configuration, swaps it in and queues the change. The caller
// holds reloadMu, so changes are queued in the order they are published.
func (w *Watcher[T]) publish() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sikkerkey: reloading %s panicked (in Validate?): %s", w.l.plan.typeName, guard.DescribePanic(r))
		}
	}()
	next, err := decodeValidate[T](w.l, w.snap)
	if err != nil {
		return err
	}
	old := w.cur.Load()
	if reflect.DeepEqual(old, next) {
		return nil
	}
	w.cur.Store(next)
	w.enqueue(event[T]{old: old, new: next})
	return nil
}

// report logs a background failure and queues it for OnError.
func (w *Watcher[T]) report(err error) {
	w.l.opts.logger.Warn("sikkerkey: watch error; the current config stays", "type", w.l.plan.typeName, "err", err)
	w.enqueue(event[T]{err: err})
}

func (w *Watcher[T]) enqueue(ev event[T]) {
	w.mu.Lock()
	w.queue = append(w.queue, ev)
	w.mu.Unlock()
	signal(w.wake)
}

// dispatch delivers queued events to the callbacks, one at a time.
func (w *Watcher[T]) dispatch() {
	w.dispGoID.Store(guard.GoroutineID())
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.wake:
		}
		for {
			w.mu.Lock()
			if len(w.queue) == 0 || w.ctx.Err() != nil {
				w.mu.Unlock()
				break
			}
			ev := w.queue[0]
			w.queue[0] = event[T]{}
			w.queue = w.queue[1:]
			changeFns, errorFns := slices.Clone(w.changeFns), slices.Clone(w.errorFns)
			w.mu.Unlock()
			if ev.err != nil {
				for _, h := range errorFns {
					w.callError(h.fn, ev.err)
				}
				continue
			}
			for _, h := range changeFns {
				if w.ctx.Err() != nil {
					return
				}
				if err := w.callChange(h.fn, ev.old, ev.new); err != nil {
					for _, eh := range errorFns {
						w.callError(eh.fn, err)
					}
				}
			}
		}
	}
}

func (w *Watcher[T]) callChange(fn func(old, new *T), old, new *T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sikkerkey: an OnChange callback panicked: %s", guard.DescribePanic(r))
			w.l.opts.logger.Error("sikkerkey: OnChange callback panicked", "panic", guard.DescribePanic(r), "stack", string(debug.Stack()))
		}
	}()
	fn(old, new)
	return nil
}

func (w *Watcher[T]) callError(fn func(error), err error) {
	defer func() {
		if r := recover(); r != nil {
			w.l.opts.logger.Error("sikkerkey: OnError callback panicked", "panic", guard.DescribePanic(r), "stack", string(debug.Stack()))
		}
	}()
	fn(err)
}
