package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
	"github.com/sikkerkey-go/sikkerkey/source"
)

// sameValue reports whether two secrets of the file are the same: the same
// fields for structured secrets (whatever their order in the file), the
// same value otherwise.
func sameValue(a, b source.Value) bool {
	if (a.Fields == nil) != (b.Fields == nil) {
		return false
	}
	if a.Fields != nil {
		return maps.Equal(a.Fields, b.Fields)
	}
	return a.Raw == b.Raw
}

// parseSecrets parses the secrets file with source.ParseJSON, the parser
// of source.File, and checks that every id is a valid secret id. Errors
// never quote the content, only secret ids.
func parseSecrets(data []byte) (map[string]source.Value, error) {
	secrets, err := source.ParseJSON(data)
	if err != nil {
		return nil, err
	}
	for _, id := range slices.Sorted(maps.Keys(secrets)) {
		if !wire.ValidSecretID(id) {
			return nil, fmt.Errorf("invalid secret id %q: use only A-Z, a-z, 0-9, '_' and '-'", id)
		}
	}
	return secrets, nil
}

// store keeps the server's secrets in step with the secrets file. Its
// methods are called from one goroutine at a time: run, then the watcher.
type store struct {
	srv     *sikkerkeytest.Server
	project string
	logger  *slog.Logger

	current map[string]source.Value
	applied [sha256.Size]byte // digest of the file content last applied
	failed  [sha256.Size]byte // digest of the content last rejected
	missing bool              // the file was missing at the last reload
}

func newStore(srv *sikkerkeytest.Server, project string, logger *slog.Logger) *store {
	return &store{srv: srv, project: project, logger: logger, current: map[string]source.Value{}}
}

// load sets the first secrets, read from data before the watch starts.
func (s *store) load(data []byte, secrets map[string]source.Value) {
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
func (s *store) apply(secrets map[string]source.Value) (added, rotated, deleted []string) {
	for _, id := range slices.Sorted(maps.Keys(secrets)) {
		e := secrets[id]
		old, ok := s.current[id]
		switch {
		case !ok:
			added = append(added, id)
		case !sameValue(old, e):
			rotated = append(rotated, id)
		default:
			continue
		}
		// PutSecret and PutFields replace an existing secret with a new
		// version, which is a rotation for clients; unlike Rotate they also
		// turn a structured secret into a plain one and back.
		if e.Fields != nil {
			s.srv.PutFields(id, id, s.project, e.Fields)
		} else {
			s.srv.PutSecret(id, id, s.project, e.Raw)
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
