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

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var burstStart time.Time
	pending := false
	event := func() {
		now := time.Now()
		if !pending {
			pending, burstStart = true, now
		}
		if now.Sub(burstStart) >= 10*debounce {
			timer.Reset(0)
			return
		}
		timer.Reset(debounce)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-w.Events:
			if !ok {
				return nil
			}
			event()
		case _, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// An error (such as a queue overflow) may hide events: re-check.
			event()
		case <-timer.C:
			pending = false
			if c := check(); !c.Empty() {
				notify(c)
			}
		}
	}
}
