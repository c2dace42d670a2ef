package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// entry is one secret of the secrets file.
type entry struct {
	// value is the value of a plain secret.
	value string
	// fields holds the fields of a structured secret; nil for a plain one.
	fields map[string]string
}

func (e entry) equal(o entry) bool {
	if (e.fields == nil) != (o.fields == nil) {
		return false
	}
	if e.fields != nil {
		return maps.Equal(e.fields, o.fields)
	}
	return e.value == o.value
}

// parseSecrets parses the secrets file, in source.File's format: a JSON
// object mapping secret ids to a string (the value), an object (a
// structured secret, whose members become fields as the protocol converts
// them), another JSON value (served as its compact JSON text) or null (no
// such secret). Errors never quote the content, only secret ids.
func parseSecrets(data []byte) (map[string]entry, error) {
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
	out := make(map[string]entry, len(doc))
	for _, id := range slices.Sorted(maps.Keys(doc)) {
		if !wire.ValidSecretID(id) {
			return nil, fmt.Errorf("invalid secret id %q: use only A-Z, a-z, 0-9, '_' and '-'", id)
		}
		raw := bytes.TrimSpace(doc[id])
		switch raw[0] { // json.Unmarshal never leaves a member empty
		case 'n':
			continue
		case '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("secret %s: not a valid JSON string", id)
			}
			out[id] = entry{value: s}
		case '{':
			fields, err := wire.ParseFields(string(raw))
			if err != nil {
				return nil, fmt.Errorf("secret %s: not a valid JSON object", id)
			}
			out[id] = entry{fields: fields}
		default:
			var compact bytes.Buffer
			if err := json.Compact(&compact, raw); err != nil {
				return nil, fmt.Errorf("secret %s: not valid JSON", id)
			}
			out[id] = entry{value: compact.String()}
		}
	}
	return out, nil
}

// store keeps the server's secrets in step with the secrets file. Its
// methods are called from one goroutine at a time: run, then the watcher.
type store struct {
	srv     *sikkerkeytest.Server
	project string
	logger  *slog.Logger

	current map[string]entry
	applied [sha256.Size]byte // digest of the file content last applied
	failed  [sha256.Size]byte // digest of the content last rejected
	missing bool              // the file was missing at the last reload
}

func newStore(srv *sikkerkeytest.Server, project string, logger *slog.Logger) *store {
	return &store{srv: srv, project: project, logger: logger, current: map[string]entry{}}
}

// load sets the first secrets, read from data before the watch starts.
func (s *store) load(data []byte, secrets map[string]entry) {
	s.applied = sha256.Sum256(data)
	s.apply(secrets)
}

// reload reads the file again and applies what changed. A file that cannot
// be read or parsed keeps the previous secrets; the error is logged once
// per content.
func (s *store) reload(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if !s.missing {
				s.logger.Error("secrets file is missing; keeping the previous secrets", "file", path)
			}
			s.missing = true
			return
		}
		s.logger.Error("cannot read the secrets file; keeping the previous secrets", "file", path, "err", err)
		return
	}
	s.missing = false
	sum := sha256.Sum256(data)
	if sum == s.applied || sum == s.failed {
		return
	}
	secrets, err := parseSecrets(data)
	if err != nil {
		s.failed = sum
		s.logger.Error("secrets file not applied; keeping the previous secrets", "file", path, "err", err)
		return
	}
	s.applied, s.failed = sum, [sha256.Size]byte{}
	added, rotated, deleted := s.apply(secrets)
	if len(added)+len(rotated)+len(deleted) == 0 {
		s.logger.Info("secrets file saved without changes", "file", path)
		return
	}
	attrs := []any{"file", path}
	for _, c := range []struct {
		key string
		ids []string
	}{{"added", added}, {"rotated", rotated}, {"deleted", deleted}} {
		if len(c.ids) > 0 {
			attrs = append(attrs, c.key, strings.Join(c.ids, ","))
		}
	}
	s.logger.Info("secrets file applied", attrs...)
}

// apply makes the server hold exactly secrets: new ids are created, changed
// ones replaced (a rotation: a new version, which polls report as
// "changed"), missing ones deleted. It returns the ids of each, sorted.
func (s *store) apply(secrets map[string]entry) (added, rotated, deleted []string) {
	for _, id := range slices.Sorted(maps.Keys(secrets)) {
		e := secrets[id]
		old, ok := s.current[id]
		switch {
		case !ok:
			added = append(added, id)
		case !old.equal(e):
			rotated = append(rotated, id)
		default:
			continue
		}
		// PutSecret and PutFields replace an existing secret with a new
		// version, which is a rotation for clients; unlike Rotate they also
		// turn a structured secret into a plain one and back.
		if e.fields != nil {
			s.srv.PutFields(id, id, s.project, e.fields)
		} else {
			s.srv.PutSecret(id, id, s.project, e.value)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.current)) {
		if _, ok := secrets[id]; !ok {
			s.srv.Delete(id)
			deleted = append(deleted, id)
		}
	}
	s.current = secrets
	return added, rotated, deleted
}
