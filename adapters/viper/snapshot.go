package sikkerkeyviper

// This file is kept in step with adapters/koanf/snapshot.go: the two
// adapters are separate modules (so that neither pulls the other's library
// into a build) and build the same snapshot shape.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/source"
)

// secretSet is the secrets an adapter reads and the key path each one lands
// under. It is immutable after construction.
type secretSet struct {
	client  *sdk.Client
	src     source.Source
	ids     []string            // sorted, without duplicates
	paths   map[string][]string // id -> key path (never empty)
	timeout time.Duration       // 0: no limit beyond the client's own
}

// newSecretSet checks the ids and renames and returns the set.
func newSecretSet(client *sdk.Client, ids []string, renames map[string]string, delim string, timeout time.Duration) (*secretSet, error) {
	if client == nil {
		return nil, errors.New("a SikkerKey client is required (got nil)")
	}
	if len(ids) == 0 {
		return nil, errors.New("no secret ids to read")
	}
	if delim == "" {
		return nil, errors.New("the key delimiter must not be empty")
	}
	if timeout < 0 {
		return nil, fmt.Errorf("the timeout must not be negative (got %v)", timeout)
	}
	s := &secretSet{
		client:  client,
		src:     source.SikkerKey(client),
		paths:   make(map[string][]string, len(ids)),
		timeout: timeout,
	}
	for _, id := range ids {
		if !validSecretID(id) {
			return nil, fmt.Errorf("invalid secret id %q: ids are made of A-Z, a-z, 0-9, '_' and '-'", id)
		}
		if _, dup := s.paths[id]; dup {
			continue
		}
		s.ids = append(s.ids, id)
		s.paths[id] = []string{id}
	}
	slices.Sort(s.ids)
	for id, key := range renames {
		if _, ok := s.paths[id]; !ok {
			return nil, fmt.Errorf("Rename(%q, %q): %q is not one of the secret ids to read", id, key, id)
		}
		path := strings.Split(key, delim)
		if slices.Contains(path, "") {
			return nil, fmt.Errorf("Rename(%q, %q): the key must be non-empty and have no empty part between %q delimiters", id, key, delim)
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
				return nil, fmt.Errorf("secrets %s and %s would both be stored under the key %q", a, b, strings.Join(pa[:n], delim))
			}
		}
	}
	return s, nil
}

// withTimeout bounds ctx by the set's timeout, if any.
func (s *secretSet) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.timeout > 0 {
		return context.WithTimeout(ctx, s.timeout)
	}
	return context.WithCancel(ctx)
}

// fetch reads every secret in one batch lookup and returns them as a fresh
// nested map: a structured secret becomes a map of its fields, any other
// secret a string. Every requested secret must be there. Errors name secret
// ids, never values.
func (s *secretSet) fetch(ctx context.Context) (map[string]any, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	reqs := make([]source.Request, len(s.ids))
	for i, id := range s.ids {
		reqs[i] = source.Request{ID: id}
	}
	values, err := s.src.Lookup(ctx, reqs)
	failed, onlyIDs := idErrors(err)
	if err != nil && !onlyIDs {
		return nil, err
	}
	var missing []string
	for _, id := range s.ids {
		if _, ok := values[id]; !ok && !failed[id] {
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

// idErrors returns the ids of the *source.IDError values err is made of,
// and whether err is made of nothing else (true for a nil err).
func idErrors(err error) (ids map[string]bool, only bool) {
	ids = map[string]bool{}
	var walk func(error) bool
	walk = func(err error) bool {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			all := true
			for _, e := range joined.Unwrap() {
				all = walk(e) && all
			}
			return all
		}
		if ie, ok := err.(*source.IDError); ok {
			ids[ie.ID] = true
			return true
		}
		return false
	}
	if err == nil {
		return ids, true
	}
	return ids, walk(err)
}

// valueOf turns a secret into its map value: the fields of a structured
// secret as a fresh map[string]any of strings, else the raw string.
func valueOf(v source.Value) any {
	fields := v.Fields
	if fields == nil {
		var err error
		if fields, err = parseFields(v.Raw); err != nil {
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
// newSecretSet guarantees that paths never conflict.
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

// errNotObject: the value is not a JSON object, so not a structured secret.
var errNotObject = errors.New("not a JSON object")

// parseFields converts a structured secret's JSON object into its fields as
// the SikkerKey protocol does: a string stays as it is, a number or boolean
// becomes its JSON text, null becomes "", a nested object or array its
// compact JSON text. Anything but a JSON object is errNotObject.
func parseFields(value string) (map[string]string, error) {
	data := bytes.TrimLeft([]byte(value), " \t\r\n")
	if len(data) == 0 || data[0] != '{' {
		return nil, errNotObject
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errNotObject
	}
	fields := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v[0] {
		case '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, errNotObject
			}
			fields[k] = s
		case 'n':
			fields[k] = ""
		case '{', '[':
			var b bytes.Buffer
			if err := json.Compact(&b, v); err != nil {
				return nil, errNotObject
			}
			fields[k] = strings.ToValidUTF8(b.String(), "\uFFFD")
		default: // number, true, false: the JSON text itself
			fields[k] = string(v)
		}
	}
	return fields, nil
}

// validSecretID reports whether id is non-empty and made only of A-Z, a-z,
// 0-9, '_' and '-', as the SikkerKey protocol requires.
func validSecretID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
