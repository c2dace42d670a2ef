package source

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/fsnotify/fsnotify"
)

// fileState is what a watcher remembers of a file: whether it could be read
// and a digest of its content (never the content itself).
type fileState struct {
	readable bool
	missing  bool
	sum      [sha256.Size]byte
}

func readState(path string) fileState {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fileState{missing: true}
	case err != nil:
		return fileState{}
	}
	return fileState{readable: true, sum: sha256.Sum256(data)}
}

// watchDir watches dir through fsnotify until ctx is done. Watching the
// directory rather than a file is what makes atomic saves (rename over the
// file) and Kubernetes ..data symlink swaps visible: a watch on the file
// itself would follow the old inode. Events are debounced: check runs once
// a burst has been quiet for debounce (or has lasted ten times that), and
// reports what actually changed, by content, so that duplicate events and
// unrelated files in the directory cost one read and no notification.
//
// check also runs once as soon as the watch is in place, and its first
// answer is always reported, because a change may have landed between the
// loader's read and the start of the watch.
func watchDir(ctx context.Context, dir string, debounce time.Duration, check func() Change, notify func(Change)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching %s: %w", dir, err)
	}
	defer w.Close()
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("watching %s: %w", dir, err)
	}
	if c := check(); !c.Empty() {
		notify(c)
	}
	d := &debouncer{wait: debounce, timer: realTimer{time.NewTimer(time.Hour)}, now: time.Now}
	d.timer.Stop()
	defer d.timer.Stop()
	// An error (such as a queue overflow) may hide events: it counts as one.
	return d.run(ctx, w.Events, w.Errors, func() {
		if c := check(); !c.Empty() {
			notify(c)
		}
	})
}

// timer is the part of *time.Timer the debouncer uses; tests replace it.
type timer interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time   { return r.t.C }
func (r realTimer) Reset(d time.Duration) { r.t.Reset(d) }
func (r realTimer) Stop()                 { r.t.Stop() }

// debouncer turns bursts of events into one call: fire runs once no event
// has come for wait, or once a burst has lasted ten times wait.
type debouncer struct {
	wait       time.Duration
	timer      timer
	now        func() time.Time
	pending    bool
	burstStart time.Time
}

func (d *debouncer) run(ctx context.Context, events <-chan fsnotify.Event, errs <-chan error, fire func()) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-events:
			if !ok {
				return nil
			}
			d.event()
		case _, ok := <-errs:
			if !ok {
				return nil
			}
			d.event()
		case <-d.timer.C():
			d.pending = false
			fire()
		}
	}
}

func (d *debouncer) event() {
	now := d.now()
	if !d.pending {
		d.pending, d.burstStart = true, now
	}
	if now.Sub(d.burstStart) >= 10*d.wait {
		d.timer.Reset(0)
		return
	}
	d.timer.Reset(d.wait)
}
