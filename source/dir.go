package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// Dir returns a source reading a directory with one file per secret id, such
// as a Kubernetes secret volume or Docker secrets: secret sk_db_prod is the
// file <dir>/sk_db_prod. A file holding a JSON object is a structured
// secret. One trailing line ending ("\n" or "\r\n") is removed, since
// editors and echo add one. A secret without a file is absent from the
// source (the next source, default= or optional applies); a missing
// directory is an error.
//
// Dir implements Watcher: it watches the directory through fsnotify, which
// sees Kubernetes ..data symlink swaps and atomic saves, and re-reads once
// per burst of events (see Debounce). A file deleted while watching makes
// its secret absent, which is an error for a required field.
func Dir(path string, opts ...FileOption) Source {
	return &dirSource{path: path, cfg: newFileConfig(opts)}
}

type dirSource struct {
	path string
	cfg  fileConfig
}

// Lookup reads the files of the requested secrets.
func (d *dirSource) Lookup(_ context.Context, reqs []Request) (map[string]Value, error) {
	info, err := os.Stat(d.path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("source directory %s does not exist; create it or remove the source: %w", d.path, err)
		}
		return nil, fmt.Errorf("source directory %s: %w", d.path, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("source directory %s is not a directory", d.path)
	}
	out := make(map[string]Value, len(reqs))
	var errs []error
	for _, r := range reqs {
		if !wire.ValidSecretID(r.ID) {
			errs = append(errs, &IDError{ID: r.ID, Err: errors.New("not a valid secret id (A-Z, a-z, 0-9, '_', '-')")})
			continue
		}
		data, err := os.ReadFile(filepath.Join(d.path, r.ID))
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case err != nil:
			errs = append(errs, &IDError{ID: r.ID, Err: fmt.Errorf("source directory %s: %w", d.path, err)})
			continue
		}
		out[r.ID] = Value{Raw: trimLineEnding(string(data))}
	}
	return out, errors.Join(errs...)
}

func trimLineEnding(s string) string {
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		return strings.TrimSuffix(t, "\r")
	}
	return s
}

// String names the source in error messages.
func (d *dirSource) String() string { return "dir " + d.path }

// Watch watches the directory until ctx is done (see Dir).
func (d *dirSource) Watch(ctx context.Context, ids []string, notify func(Change)) error {
	last := make(map[string]fileState, len(ids))
	check := func() Change {
		var c Change
		for _, id := range ids {
			if !wire.ValidSecretID(id) {
				continue
			}
			cur := readState(filepath.Join(d.path, id))
			if old, ok := last[id]; ok && old == cur {
				continue
			}
			last[id] = cur
			c.Changed = append(c.Changed, id)
		}
		return c
	}
	return watchDir(ctx, d.path, d.cfg.debounce, check, notify)
}
