package adapt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/source"
)

// DefaultTimeout is the adapters' default bound on one fetch. Their docs
// give its value (30 seconds): change them with it.
const DefaultTimeout = 30 * time.Second

// Config is what the adapters' common options set. An adapter embeds it in
// its own option target and passes it to NewSecretSet.
type Config struct {
	// Renames maps a secret id to the key it is stored under instead of the
	// id itself; the key is split into a path at Delim.
	Renames map[string]string
	// Delim splits rename keys into paths. It must not be empty.
	Delim string
	// Timeout bounds each Fetch; 0 means no bound beyond the client's own.
	Timeout time.Duration
	// Errs are option errors; NewSecretSet reports them, joined.
	Errs []error
}

// DefaultConfig returns a Config with no renames, the delimiter "." and
// DefaultTimeout.
func DefaultConfig() Config {
	return Config{Renames: map[string]string{}, Delim: ".", Timeout: DefaultTimeout}
}

// Rename records that secret id is stored under key. Renaming the same id
// twice is an option error.
func (c *Config) Rename(id, key string) {
	if _, dup := c.Renames[id]; dup {
		c.Errs = append(c.Errs, fmt.Errorf("Rename(%q, ...) given twice", id))
		return
	}
	if c.Renames == nil {
		c.Renames = map[string]string{}
	}
	c.Renames[id] = key
}

// SecretSet is the secrets an adapter reads and the key path each one lands
// under. It is immutable after construction and safe for concurrent use.
type SecretSet struct {
	client  *sdk.Client
	src     source.Source
	ids     []string            // sorted, without duplicates
	paths   map[string][]string // id -> key path (never empty)
	timeout time.Duration       // 0: no limit beyond the client's own
}

// NewSecretSet checks c, the ids and the renames and returns the set of the
// secrets with the given ids (duplicates are read once), read through
// client. It makes no request. Errors are not prefixed with the adapter's
// name; the caller adds it.
func NewSecretSet(client *sdk.Client, ids []string, c Config) (*SecretSet, error) {
	if err := errors.Join(c.Errs...); err != nil {
		return nil, err
	}
	if client == nil {
		return nil, errors.New("a SikkerKey client is required (got nil)")
	}
	if len(ids) == 0 {
		return nil, errors.New("no secret ids to read")
	}
	if c.Delim == "" {
		return nil, errors.New("the key delimiter must not be empty")
	}
	if c.Timeout < 0 {
		return nil, fmt.Errorf("the timeout must not be negative (got %v)", c.Timeout)
	}
	s := &SecretSet{
		client:  client,
		src:     source.SikkerKey(client),
		paths:   make(map[string][]string, len(ids)),
		timeout: c.Timeout,
	}
	for _, id := range ids {
		if !wire.ValidSecretID(id) {
			return nil, fmt.Errorf("invalid secret id %q: ids are made of A-Z, a-z, 0-9, '_' and '-'", id)
		}
		if _, dup := s.paths[id]; dup {
			continue
		}
		s.ids = append(s.ids, id)
		s.paths[id] = []string{id}
	}
	slices.Sort(s.ids)
	for id, key := range c.Renames {
		if _, ok := s.paths[id]; !ok {
			return nil, fmt.Errorf("Rename(%q, %q): %q is not one of the secret ids to read", id, key, id)
		}
		path := strings.Split(key, c.Delim)
		if slices.Contains(path, "") {
			return nil, fmt.Errorf("Rename(%q, %q): the key must be non-empty and have no empty part between %q delimiters", id, key, c.Delim)
		}
		s.paths[id] = path
	}
	// No key may be another's key or lie inside it: both would need the
	// same map entry.
	for i, a := range s.ids {
		for _, b := range s.ids[i+1:] {
			pa, pb := s.paths[a], s.paths[b]
			n := min(len(pa), len(pb))
			if slices.Equal(pa[:n], pb[:n]) {
				return nil, fmt.Errorf("secrets %s and %s would both be stored under the key %q", a, b, strings.Join(pa[:n], c.Delim))
			}
		}
	}
	return s, nil
}

// withTimeout bounds ctx by the set's timeout, if any.
func (s *SecretSet) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.timeout > 0 {
		return context.WithTimeout(ctx, s.timeout)
	}
	return context.WithCancel(ctx)
}

// Fetch reads every secret in one batch lookup (one export request for
// three or more secrets, parallel reads for one or two) and returns them as
// a fresh nested map: a structured secret becomes a map of its fields, any
// other secret a string. Every requested secret must be there. Errors name
// secret ids, never values.
func (s *SecretSet) Fetch(ctx context.Context) (map[string]any, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	reqs := make([]source.Request, len(s.ids))
	for i, id := range s.ids {
		reqs[i] = source.Request{ID: id}
	}
	values, err := s.src.Lookup(ctx, reqs)
	failed, rest := source.SplitIDErrors(err)
	if rest != nil {
		return nil, err
	}
	var missing []string
	for _, id := range s.ids {
		if _, ok := values[id]; !ok && failed[id] == nil {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		err = errors.Join(err, fmt.Errorf("secret %s not found in SikkerKey (deleted, or never created): %w",
			strings.Join(missing, ", "), sdk.ErrNotFound))
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(s.ids))
	for _, id := range s.ids {
		setPath(out, s.paths[id], valueOf(values[id]))
	}
	return out, nil
}

// valueOf turns a secret into its map value: the fields of a structured
// secret as a fresh map[string]any of strings, else the raw string.
func valueOf(v source.Value) any {
	fields := v.Fields
	if fields == nil {
		var err error
		if fields, err = wire.ParseFields(v.Raw); err != nil {
			return v.Raw
		}
	}
	m := make(map[string]any, len(fields))
	for k, f := range fields {
		m[k] = f
	}
	return m
}

// setPath stores value in m under path, creating the intermediate maps.
// NewSecretSet guarantees that paths never conflict.
func setPath(m map[string]any, path []string, value any) {
	for _, key := range path[:len(path)-1] {
		next, ok := m[key].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[key] = next
		}
		m = next
	}
	m[path[len(path)-1]] = value
}
