package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// DefaultDebounce is how long File and Dir wait for a burst of file system
// events to end before they re-read.
const DefaultDebounce = 100 * time.Millisecond

// FileOption configures File and Dir.
type FileOption func(*fileConfig)

type fileConfig struct {
	debounce time.Duration
}

// Debounce sets how long File and Dir wait after a file system event for
// more events before re-reading (default DefaultDebounce): an editor's burst
// of writes or a Kubernetes symlink swap is one reload. A burst that goes on
// for more than ten times d is re-read anyway.
func Debounce(d time.Duration) FileOption {
	return func(c *fileConfig) {
		if d > 0 {
			c.debounce = d
		}
	}
}

func newFileConfig(opts []FileOption) fileConfig {
	c := fileConfig{debounce: DefaultDebounce}
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	return c
}

// File returns a source reading a JSON file that maps secret ids to values,
// for local development without a SikkerKey account:
//
//	{
//	  "sk_api_key": "dev-key",
//	  "sk_db_prod": {"host": "localhost", "port": 5432, "password": "dev"}
//	}
//
// A string is the secret's value; an object is a structured secret whose
// members are its fields; a number or boolean is its JSON text; null means
// the file does not have the secret. The file is read at every lookup; a
// missing or malformed file is an error, never an empty source.
//
// File implements Watcher: it watches the file's directory through
// fsnotify, so that atomic saves (write a temporary file, rename it over
// the old one) and Kubernetes ConfigMap symlink swaps are seen, and it
// reloads once per burst of events (see Debounce).
func File(path string, opts ...FileOption) Source {
	return &fileSource{path: path, cfg: newFileConfig(opts)}
}

type fileSource struct {
	path string
	cfg  fileConfig
}

// Lookup reads the file and returns the requested secrets it holds.
func (f *fileSource) Lookup(_ context.Context, reqs []Request) (map[string]Value, error) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, f.readError(err)
	}
	all, err := ParseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("source file %s: %w", f.path, err)
	}
	out := make(map[string]Value, len(reqs))
	for _, r := range reqs {
		if v, ok := all[r.ID]; ok {
			out[r.ID] = v
		}
	}
	return out, nil
}

func (f *fileSource) readError(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("source file %s does not exist; create it or remove the source: %w", f.path, err)
	}
	return fmt.Errorf("source file %s: %w", f.path, err)
}

// String names the source in error messages.
func (f *fileSource) String() string { return "file " + f.path }

// Watch watches the file until ctx is done (see File).
func (f *fileSource) Watch(ctx context.Context, ids []string, notify func(Change)) error {
	var last fileState
	started := false
	check := func() Change {
		cur := readState(f.path)
		if started && cur == last {
			return Change{}
		}
		started, last = true, cur
		return Change{Changed: ids}
	}
	return watchDir(ctx, filepath.Dir(f.path), f.cfg.debounce, check, notify)
}

// ParseJSON parses the format File reads: a JSON object mapping secret ids
// to a string (the value), an object (a structured secret: its members
// become fields as the SikkerKey protocol converts them), any other JSON
// value (taken as its compact JSON text), or null (no such secret, left
// out of the result). Ids are not checked. Errors never quote the content.
// The development server (cmd/sikkerkey-devserver) reads its secrets file
// with it, so the two always agree.
func ParseJSON(data []byte) (map[string]Value, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, fmt.Errorf("not valid JSON (syntax error at byte %d)", syntax.Offset)
		}
		return nil, errors.New("not a JSON object mapping secret ids to values")
	}
	if doc == nil {
		return nil, errors.New("not a JSON object mapping secret ids to values")
	}
	out := make(map[string]Value, len(doc))
	for id, raw := range doc {
		if v, ok := jsonValue(raw); ok {
			out[id] = v
		}
	}
	return out, nil
}

// jsonValue turns one member of a JSON file into a Value; null is absent.
func jsonValue(raw json.RawMessage) (Value, bool) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || raw[0] == 'n':
		return Value{}, false
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return Value{}, false
		}
		return Value{Raw: s}, true
	}
	var compact bytes.Buffer
	if json.Compact(&compact, raw) != nil {
		return Value{}, false
	}
	v := Value{Raw: compact.String()}
	if raw[0] == '{' {
		v.Fields, _ = wire.ParseFields(v.Raw)
	}
	return v, true
}
