package sikkerkey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/logbuf"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
	"github.com/sikkerkey-go/sikkerkey/source"
)

// withJitter replaces the poll jitter.
func withJitter(f func(int64) int64) Option { return func(o *options) { o.jitter = f } }

func noJitter(int64) int64 { return 0 }

// recv waits for a value, failing the test after a generous timeout (it
// never asserts anything about timing).
func recv[V any](t *testing.T, c <-chan V) V {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting")
		panic("unreachable")
	}
}

type rotCfg struct {
	Key  string `sikkerkey:"sk_key"`
	Port int    `sikkerkey:"sk_port"`
	Opt  string `sikkerkey:"sk_opt,default=fallback"`
}

type change[T any] struct{ old, new *T }

// rig is a SikkerKey test server with one machine and a client that may
// poll as often as it likes.
type rig struct {
	srv *sikkerkeytest.Server
	m   *sikkerkeytest.Machine
	c   *sdk.Client
}

func newRig(t *testing.T) *rig {
	srv := newServer(t)
	m := srv.AddMachine("app")
	srv.PutSecret("sk_key", "key", "", "k1")
	srv.PutSecret("sk_port", "port", "", "8080")
	srv.PutSecret("sk_opt", "opt", "", "o1")
	return &rig{srv: srv, m: m, c: newClient(t, srv, m, sdk.WithMinPollInterval(time.Millisecond))}
}

// watch starts a watcher whose events land in channels. With a zero
// interval it never polls by itself: tests call pollNow.
func watch[T any](t *testing.T, interval time.Duration, opts ...Option) (*Watcher[T], chan change[T], chan error) {
	t.Helper()
	jitter := noJitter // poll at once, then every interval
	if interval == 0 {
		interval = time.Hour
		jitter = func(n int64) int64 { return n - 1 } // first poll in an hour
	}
	opts = append([]Option{WithPollInterval(interval), withJitter(jitter)}, opts...)
	w, err := Watch[T](context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	changes, errs := make(chan change[T], 100), make(chan error, 100)
	w.OnChange(func(old, new *T) { changes <- change[T]{old, new} })
	w.OnError(func(err error) { errs <- err })
	return w, changes, errs
}

// pollNow makes the watcher poll its first source once, synchronously.
func (w *Watcher[T]) pollNow(t *testing.T) {
	t.Helper()
	if err := w.pollOnce(w.ctx, 0, w.l.sources[0].(source.Poller)); err != nil {
		t.Fatal(err)
	}
}

// barrier returns once every event queued before it has been delivered.
func (w *Watcher[T]) barrier(t *testing.T, errs <-chan error) {
	t.Helper()
	mark := fmt.Errorf("barrier %p", new(int))
	w.report(mark)
	for {
		if err := recv(t, errs); err == mark {
			return
		}
	}
}

func TestWatchRotation(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	w, changes, _ := watch[rotCfg](t, 5*time.Millisecond, WithClient(r.c))
	first := w.Current()
	if *first != (rotCfg{Key: "k1", Port: 8080, Opt: "o1"}) {
		t.Fatalf("first %+v", *first)
	}
	r.srv.Rotate("sk_key", "k2")
	ch := recv(t, changes)
	if ch.old != first || ch.new.Key != "k2" || ch.new.Port != 8080 || w.Current() != ch.new {
		t.Errorf("change %+v -> %+v", *ch.old, *ch.new)
	}
	if first.Key != "k1" {
		t.Error("the old config was modified")
	}
}

// TestWatchRotationBeforeFirstPoll rotates between the first load and the
// first poll: the poll reports it.
func TestWatchRotationBeforeFirstPoll(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	w, changes, errs := watch[rotCfg](t, 0, WithClient(r.c))
	r.srv.Rotate("sk_port", "9090")
	r.srv.ResetRequests()
	w.pollNow(t)
	if ch := recv(t, changes); ch.new.Port != 9090 {
		t.Errorf("%+v", *ch.new)
	}
	if gets, exports, polls := countRequests(r.srv); gets != 1 || exports != 0 || polls != 1 {
		t.Errorf("one rotation cost %d polls, %d reads, %d exports; want 1 poll and 1 read", polls, gets, exports)
	}
	// Nothing new: no reload, no OnChange.
	w.pollNow(t)
	w.barrier(t, errs)
	if len(changes) != 0 {
		t.Error("OnChange without a change")
	}
}

func TestWatchBadRotationKeepsConfig(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	w, changes, errs := watch[rotCfg](t, 0, WithClient(r.c))
	first := w.Current()
	r.srv.Rotate("sk_port", "hunter2-not-a-port")
	w.pollNow(t)
	err := recv(t, errs)
	var le *LoadError
	if !errors.As(err, &le) || le.Fields[0].Path != "Port" || !errors.Is(err, ErrDecode) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v", err)
	}
	if w.Current() != first {
		t.Error("config replaced by a bad one")
	}
	// An unrelated rotation cannot be published while Port is bad...
	r.srv.Rotate("sk_key", "k2")
	w.pollNow(t)
	if err := recv(t, errs); !errors.Is(err, ErrDecode) {
		t.Errorf("%v", err)
	}
	// ...and the next good rotation applies everything.
	r.srv.Rotate("sk_port", "9090")
	w.pollNow(t)
	ch := recv(t, changes)
	if ch.old != first || *ch.new != (rotCfg{Key: "k2", Port: 9090, Opt: "o1"}) {
		t.Errorf("%+v", *ch.new)
	}
}

func TestWatchValidateRejects(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	w, changes, errs := watch[validated](t, 0, WithClient(r.c))
	if w.Current().Port != 8080 {
		t.Fatal(w.Current())
	}
	r.srv.Rotate("sk_port", "0")
	w.pollNow(t)
	if err := recv(t, errs); !errors.Is(err, errPortZero) || w.Current().Port != 8080 {
		t.Errorf("%v %v", err, w.Current())
	}
	r.srv.Rotate("sk_port", "1")
	w.pollNow(t)
	if ch := recv(t, changes); ch.new.Port != 1 {
		t.Error(ch.new)
	}
}

func TestWatchDeleteAndRevoke(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	w, changes, errs := watch[rotCfg](t, 0, WithClient(r.c))
	first := w.Current()

	// A required secret deleted: an error, the config is kept.
	r.srv.Delete("sk_key")
	w.pollNow(t)
	err := recv(t, errs)
	if !errors.Is(err, sdk.ErrNotFound) || !errors.Is(err, ErrMissing) || w.Current() != first {
		t.Errorf("delete: %v", err)
	}
	r.srv.PutSecret("sk_key", "key", "", "k1")
	w.pollNow(t)
	w.barrier(t, errs)

	// An optional secret revoked: back to its default, published.
	r.srv.Revoke(r.m.ID(), "sk_opt")
	w.pollNow(t)
	ch := recv(t, changes)
	if ch.new.Opt != "fallback" || ch.new.Key != "k1" {
		t.Errorf("revoke optional: %+v", *ch.new)
	}
	// A required one revoked: an error naming access.
	r.srv.Revoke(r.m.ID(), "sk_port")
	w.pollNow(t)
	if err := recv(t, errs); !errors.Is(err, sdk.ErrAccessDenied) || w.Current().Port != 8080 {
		t.Errorf("revoke required: %v", err)
	}
	// Granted again and rotated: back to normal.
	r.srv.Grant(r.m.ID(), "sk_port")
	r.srv.Grant(r.m.ID(), "sk_opt")
	r.srv.Rotate("sk_port", "1")
	r.srv.Rotate("sk_opt", "o2")
	w.pollNow(t)
	if ch := recv(t, changes); *ch.new != (rotCfg{Key: "k1", Port: 1, Opt: "o2"}) {
		t.Errorf("restored: %+v", *ch.new)
	}
}

// flaky fails its next Lookup when told to.
type flaky struct {
	source.Source
	fail atomic.Bool
}

func (f *flaky) Lookup(ctx context.Context, reqs []source.Request) (map[string]source.Value, error) {
	if f.fail.Swap(false) {
		return nil, sdk.ErrUnavailable
	}
	return f.Source.Lookup(ctx, reqs)
}

func (f *flaky) Poll(ctx context.Context, ids []string) (source.Change, error) {
	return f.Source.(source.Poller).Poll(ctx, ids)
}

// TestWatchRetriesFailedReread: the server reports a change once; when the
// read after it fails, the next poll reads the secret again anyway.
func TestWatchRetriesFailedReread(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	src := &flaky{Source: source.SikkerKey(r.c)}
	w, changes, errs := watch[rotCfg](t, 0, WithSources(src))
	r.srv.Rotate("sk_key", "k2")
	src.fail.Store(true)
	w.pollNow(t)
	if err := recv(t, errs); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("%v", err)
	}
	w.pollNow(t)
	if ch := recv(t, changes); ch.new.Key != "k2" {
		t.Errorf("%+v", *ch.new)
	}
}

func TestWatchPollErrorsAndRateLimit(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	w, _, errs := watch[rotCfg](t, 0, WithClient(r.c))
	r.srv.FailNextWithRetryAfter(429, 30*time.Second)
	err := w.pollOnce(w.ctx, 0, w.l.sources[0].(source.Poller))
	if !errors.Is(err, sdk.ErrRateLimited) {
		t.Fatalf("%v", err)
	}
	if d := newSchedule(time.Second, noJitter).next(err); d != 30*time.Second {
		t.Errorf("wait after Retry-After 30s: %v", d)
	}
	if got := recv(t, errs); !errors.Is(got, sdk.ErrRateLimited) || !strings.Contains(got.Error(), "polling sikkerkey") {
		t.Errorf("%v", got)
	}
}

// mutable is a source whose values tests change, with Refresh to reload.
type mutable struct {
	mu     sync.Mutex
	values map[string]string
}

func (m *mutable) set(id, v string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.values[id] = v
}

func (m *mutable) Lookup(ctx context.Context, reqs []source.Request) (map[string]source.Value, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return source.Map(m.values).Lookup(ctx, reqs)
}

func TestWatchOnChangeSerialInOrder(t *testing.T) {
	t.Parallel()
	src := &mutable{values: map[string]string{"sk_key": "0", "sk_port": "0"}}
	w, err := Watch[rotCfg](context.Background(), WithSources(src))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var inFlight atomic.Int32
	var mu sync.Mutex
	var seen []int
	done := make(chan struct{})
	const n = 200
	w.OnChange(func(old, new *rotCfg) {
		if inFlight.Add(1) != 1 {
			t.Error("OnChange called concurrently")
		}
		if old.Port+1 != new.Port {
			t.Errorf("old %d, new %d", old.Port, new.Port)
		}
		mu.Lock()
		seen = append(seen, new.Port)
		mu.Unlock()
		if new.Port == n {
			close(done)
		}
		inFlight.Add(-1)
	})
	for i := 1; i <= n; i++ {
		src.set("sk_port", strconv.Itoa(i))
		if err := w.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := w.Refresh(context.Background()); err != nil { // identical: no OnChange
			t.Fatal(err)
		}
	}
	recv(t, done)
	for i, p := range seen {
		if p != i+1 {
			t.Fatalf("out of order: %v", seen)
		}
	}
}

func TestWatchCallbackPanicsAndRemoval(t *testing.T) {
	t.Parallel()
	src := &mutable{values: map[string]string{"sk_key": "a", "sk_port": "1"}}
	w, err := Watch[rotCfg](context.Background(), WithSources(src))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	errs := make(chan error, 10)
	changes := make(chan *rotCfg, 10)
	w.OnChange(func(_, new *rotCfg) { panic("boom " + new.Key) })
	w.OnError(func(err error) { panic("error handler panics too") })
	w.OnError(func(err error) { errs <- err })
	removed := w.OnChange(func(_, new *rotCfg) { changes <- new })
	src.set("sk_key", "b")
	if err := w.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The panic is reported, but not its value: it may have been built
	// from a secret.
	if err := recv(t, errs); !strings.Contains(err.Error(), "panicked") || strings.Contains(err.Error(), "boom") {
		t.Errorf("%v", err)
	}
	if c := recv(t, changes); c.Key != "b" {
		t.Error(c)
	}
	removed()
	removed()
	src.set("sk_key", "c")
	if err := w.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	recv(t, errs) // the panic again, from the first callback
	w.barrier(t, errs)
	if len(changes) != 0 {
		t.Error("removed callback called")
	}
}

func TestWatchCallbacksMayCallTheWatcher(t *testing.T) {
	t.Parallel()
	src := &mutable{values: map[string]string{"sk_key": "a", "sk_port": "1"}}
	w, err := Watch[rotCfg](context.Background(), WithSources(src))
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	w.OnChange(func(_, new *rotCfg) {
		if w.Current() != new {
			t.Error("Current is not the new config")
		}
		if new.Key == "b" {
			src.set("sk_key", "c")
			if err := w.Refresh(context.Background()); err != nil {
				t.Error(err)
			}
			return
		}
		_ = w.Close() // must not deadlock
		close(closed)
	})
	src.set("sk_key", "b")
	if err := w.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	recv(t, closed)
	_ = w.Close()
	if err := w.Refresh(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Refresh after Close: %v", err)
	}
}

func TestWatchCloseWaitsForRunningCallback(t *testing.T) {
	t.Parallel()
	src := &mutable{values: map[string]string{"sk_key": "a", "sk_port": "1"}}
	w, err := Watch[rotCfg](context.Background(), WithSources(src))
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	w.OnChange(func(_, _ *rotCfg) {
		if calls.Add(1) == 1 {
			close(entered)
			<-release
		}
	})
	src.set("sk_key", "b")
	_ = w.Refresh(context.Background())
	src.set("sk_key", "c")
	_ = w.Refresh(context.Background()) // queued behind the running callback
	recv(t, entered)
	closeReturned := make(chan struct{})
	go func() {
		_ = w.Close()
		_ = w.Close() // idempotent
		close(closeReturned)
	}()
	<-w.ctx.Done() // Close has begun
	select {
	case <-closeReturned:
		t.Fatal("Close returned while a callback was running")
	default:
	}
	close(release)
	recv(t, closeReturned)
	if calls.Load() != 1 {
		t.Errorf("%d calls: a callback started after Close", calls.Load())
	}
}

func TestWatchContextCancelStops(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	w, err := Watch[rotCfg](ctx, WithClient(r.c), WithPollInterval(time.Millisecond), withJitter(noJitter))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	recv(t, w.done)
	_ = w.Close()
}

func TestWatchFirstLoadFails(t *testing.T) {
	t.Parallel()
	_, err := Watch[rotCfg](context.Background(), WithSources(source.Map(nil)))
	var le *LoadError
	if !errors.As(err, &le) || len(le.Fields) != 2 {
		t.Errorf("%v", err)
	}
	if _, err := Watch[int](context.Background()); !errors.Is(err, sdk.ErrConfiguration) {
		t.Errorf("%v", err)
	}
}

// TestWatchDefaultClient lets the watcher make its own client from the
// identity on disk; Close closes it (goleak checks).
func TestWatchDefaultClient(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	m := srv.AddMachine("app")
	srv.PutSecret("sk_key", "key", "", "k1")
	srv.PutSecret("sk_port", "port", "", "1")
	path, err := m.WriteIdentity(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := Watch[rotCfg](context.Background(), WithVault(path))
	if err != nil {
		t.Fatal(err)
	}
	if w.Current().Key != "k1" {
		t.Error(w.Current())
	}
	_ = w.Close()
}

// TestWatchConcurrentReaders swaps configs while readers check that they
// only ever see whole ones (run with -race).
func TestWatchConcurrentReaders(t *testing.T) {
	t.Parallel()
	type pair struct {
		A int `sikkerkey:"sk_pair,field=a"`
		B int `sikkerkey:"sk_pair,field=b"`
	}
	src := &mutable{values: map[string]string{"sk_pair": `{"a":0,"b":0}`}}
	w, err := Watch[pair](context.Background(), WithSources(src))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c := w.Current()
				if c.A != c.B {
					t.Errorf("torn config %+v", *c)
					return
				}
			}
		}()
	}
	for i := range 300 {
		src.set("sk_pair", fmt.Sprintf(`{"a":%d,"b":%d}`, i, i))
		if err := w.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestWatchLogsWithoutValues(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	var logs logbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	w, _, errs := watch[rotCfg](t, 0, WithClient(r.c), WithLogger(logger))
	r.srv.Rotate("sk_port", "hunter2")
	w.pollNow(t)
	recv(t, errs)
	out := logs.String()
	if !strings.Contains(out, "watch error") || !strings.Contains(out, "Port") || strings.Contains(out, "hunter2") {
		t.Errorf("log: %s", out)
	}
}
