package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// fakeTimer is a timer the test fires by hand.
type fakeTimer struct {
	c      chan time.Time
	mu     sync.Mutex
	resets []time.Duration
}

func (f *fakeTimer) C() <-chan time.Time { return f.c }
func (f *fakeTimer) Stop()               {}
func (f *fakeTimer) Reset(d time.Duration) {
	f.mu.Lock()
	f.resets = append(f.resets, d)
	f.mu.Unlock()
}

func TestDebouncer(t *testing.T) {
	t.Parallel()
	ft := &fakeTimer{c: make(chan time.Time)}
	now := time.Unix(0, 0)
	var clockMu sync.Mutex
	d := &debouncer{wait: 100 * time.Millisecond, timer: ft, now: func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		return now
	}}
	events := make(chan fsnotify.Event)
	errs := make(chan error)
	fired := make(chan struct{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.run(ctx, events, errs, func() { fired <- struct{}{} }) }()

	// A burst of 20 events (and an fsnotify error) then quiet: one fire.
	for range 20 {
		events <- fsnotify.Event{Name: "x", Op: fsnotify.Write}
	}
	errs <- fsnotify.ErrEventOverflow
	ft.c <- time.Time{}
	<-fired
	ft.mu.Lock()
	if len(ft.resets) != 21 || slices.ContainsFunc(ft.resets, func(r time.Duration) bool { return r != d.wait }) {
		t.Errorf("resets %v", ft.resets)
	}
	ft.resets = nil
	ft.mu.Unlock()

	// A burst that never pauses fires after ten times the wait.
	for range 25 {
		events <- fsnotify.Event{Name: "x", Op: fsnotify.Write}
		clockMu.Lock()
		now = now.Add(d.wait / 2)
		clockMu.Unlock()
	}
	ft.c <- time.Time{} // also waits until the last event was handled
	<-fired
	ft.mu.Lock()
	if !slices.Contains(ft.resets, 0) {
		t.Errorf("no immediate fire in a long burst: %v", ft.resets)
	}
	ft.mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(fired) != 0 {
		t.Errorf("%d extra fires", len(fired))
	}
}

// watching runs w.Watch in the background and returns its notifications.
func watching(t *testing.T, w Watcher, ids ...string) <-chan Change {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan Change, 100)
	done := make(chan error)
	go func() { done <- w.Watch(ctx, ids, func(c Change) { changes <- c }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return changes
}

func next(t *testing.T, c <-chan Change) Change {
	t.Helper()
	select {
	case ch := <-c:
		return ch
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
		return Change{}
	}
}

func TestFileWatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets.json")
	writeFile(t, path, `{"sk_a":"1"}`)
	changes := watching(t, File(path, Debounce(20*time.Millisecond)).(Watcher), "sk_a", "sk_b")
	if c := next(t, changes); !slices.Equal(c.Changed, []string{"sk_a", "sk_b"}) {
		t.Errorf("first report %+v", c)
	}
	// An atomic save: write a temporary file, rename it over the old one.
	tmp := filepath.Join(dir, ".secrets.json.tmp")
	writeFile(t, tmp, `{"sk_a":"2"}`)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if c := next(t, changes); !slices.Equal(c.Changed, []string{"sk_a", "sk_b"}) {
		t.Errorf("atomic save %+v", c)
	}
	// Deleted: reported (the loader's re-read then fails).
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	next(t, changes)
	writeFile(t, path, `{"sk_a":"3"}`)
	next(t, changes)
}

func TestDirWatchBurstAndDuplicates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sk_a"), "0")
	writeFile(t, filepath.Join(dir, "sk_b"), "0")
	changes := watching(t, Dir(dir, Debounce(200*time.Millisecond)).(Watcher), "sk_a", "sk_b")
	next(t, changes) // in place

	// A burst of writes to sk_a, then (after its notification) one to sk_b:
	// sk_a is reported exactly once.
	for i := range 20 {
		writeFile(t, filepath.Join(dir, "sk_a"), fmt.Sprint(i+1))
	}
	if c := next(t, changes); !slices.Equal(c.Changed, []string{"sk_a"}) {
		t.Errorf("burst %+v", c)
	}
	// Rewriting identical content, or touching an unrelated file, is no news.
	writeFile(t, filepath.Join(dir, "sk_a"), "20")
	writeFile(t, filepath.Join(dir, "unrelated"), "x")
	writeFile(t, filepath.Join(dir, "sk_b"), "1")
	if c := next(t, changes); !slices.Equal(c.Changed, []string{"sk_b"}) {
		t.Errorf("after the burst: %+v", c)
	}
	if err := os.Remove(filepath.Join(dir, "sk_b")); err != nil {
		t.Fatal(err)
	}
	if c := next(t, changes); !slices.Equal(c.Changed, []string{"sk_b"}) {
		t.Errorf("delete: %+v", c)
	}
}

// k8sVolume lays out dir like a Kubernetes secret volume: the files are
// symlinks through ..data to a timestamped directory.
func k8sVolume(t *testing.T, dir string, gen int, files map[string]string) {
	t.Helper()
	ts := filepath.Join(dir, fmt.Sprintf("..2024_01_01_00_00_%02d.000", gen))
	if err := os.Mkdir(ts, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		writeFile(t, filepath.Join(ts, name), content)
	}
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for name := range files {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); err != nil {
			if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
				t.Fatal(err)
			}
		}
	}
	if gen > 1 {
		old := filepath.Join(dir, fmt.Sprintf("..2024_01_01_00_00_%02d.000", gen-1))
		if err := os.RemoveAll(old); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDirWatchKubernetesSwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k8sVolume(t, dir, 1, map[string]string{"sk_a": "1", "sk_b": "1"})
	s := Dir(dir, Debounce(20*time.Millisecond))
	changes := watching(t, s.(Watcher), "sk_a", "sk_b")
	next(t, changes)
	k8sVolume(t, dir, 2, map[string]string{"sk_a": "2", "sk_b": "1"})
	if c := next(t, changes); !slices.Equal(c.Changed, []string{"sk_a"}) {
		t.Errorf("swap %+v", c)
	}
	got, err := s.Lookup(ctx, reqs("sk_a", "sk_b"))
	if err != nil || got["sk_a"].Raw != "2" || got["sk_b"].Raw != "1" {
		t.Errorf("%v %v", got, err)
	}
}

func TestWatchMissingDirectory(t *testing.T) {
	t.Parallel()
	err := Dir(filepath.Join(t.TempDir(), "nope")).(Watcher).Watch(context.Background(), []string{"sk_a"}, func(Change) {})
	if err == nil {
		t.Error("want an error")
	}
}
