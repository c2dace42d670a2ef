package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce is how long a burst of file system events must be quiet before
// the secrets file is read again (source.DefaultDebounce).
const debounce = 100 * time.Millisecond

// fileWatcher calls reload after changes in the directory of a file.
//
// It watches the directory rather than the file, so that atomic saves
// (write a temporary file, rename it over the old one) and symlink swaps
// are seen: a watch on the file itself would follow the old inode. Every
// event in the directory counts, since a swap may touch only other names;
// reload compares contents, so unrelated events cost one read.
//
// (source.File's Watcher is not used: it reports changes to a fixed list
// of ids, and the dev server must also see ids added to the file.)
type fileWatcher struct {
	w        *fsnotify.Watcher
	debounce time.Duration
	reload   func()
}

// newFileWatcher starts watching the directory of path. Events that happen
// from now on are seen by run.
func newFileWatcher(path string, debounce time.Duration, reload func()) (*fileWatcher, error) {
	dir := filepath.Dir(path)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", dir, err)
	}
	if err := w.Add(dir); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("watching %s: %w", dir, err)
	}
	return &fileWatcher{w: w, debounce: debounce, reload: reload}, nil
}

// run calls reload once per burst of events, when the burst has been quiet
// for the debounce time or has lasted ten times that, until ctx is done.
// It then closes the watcher.
func (f *fileWatcher) run(ctx context.Context) {
	defer f.w.Close()
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
		if now.Sub(burstStart) >= 10*f.debounce {
			timer.Reset(0)
			return
		}
		timer.Reset(f.debounce)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-f.w.Events:
			if !ok {
				return
			}
			event()
		case _, ok := <-f.w.Errors:
			if !ok {
				return
			}
			event() // an error such as a queue overflow may hide events: re-read
		case <-timer.C:
			pending = false
			f.reload()
		}
	}
}
