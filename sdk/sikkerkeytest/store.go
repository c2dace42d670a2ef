package sikkerkeytest

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// secret is one stored secret. Every write gives it a new version, unique
// across the server, so a secret deleted and created again never reuses a
// version.
type secret struct {
	id         string
	name       string
	projectID  *string // nil: no project (JSON null)
	value      string
	fieldNames *string // nil: not structured (JSON null)
	version    uint64
}

// PutSecret creates or replaces a plain secret. An empty projectID means
// "no project" (projectId null in list responses). Replacing a secret is
// a new version, which polls report as "changed".
//
// PutSecret panics, as a programmer error, if id is not a valid secret id
// (non-empty, only A-Z, a-z, 0-9, '_' and '-'): no client could ask for it.
func (s *Server) PutSecret(id, name, projectID, value string) {
	s.put(id, name, projectID, value, nil)
}

// PutFields creates or replaces a structured secret. Its value is the
// compact JSON object text of fields, and its fieldNames are the sorted
// field names joined by commas (non-null, "" for no fields). It panics
// like PutSecret on an invalid id.
func (s *Server) PutFields(id, name, projectID string, fields map[string]string) {
	value, names := encodeFields(fields)
	s.put(id, name, projectID, value, &names)
}

func (s *Server) put(id, name, projectID, value string, fieldNames *string) {
	if !wire.ValidSecretID(id) {
		panic("sikkerkeytest: invalid secret id " + strconv.Quote(id))
	}
	sec := &secret{id: id, name: name, value: value, fieldNames: fieldNames}
	if projectID != "" {
		sec.projectID = &projectID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	sec.version = s.version
	s.secrets[id] = sec
}

// Rotate gives an existing secret a new value and version, keeping its
// name and project. For a structured secret, pass the JSON object text;
// when it is a JSON object, fieldNames are recomputed from its keys. It
// reports whether the secret exists; if not, nothing happens.
func (s *Server) Rotate(id, value string) bool {
	return s.update(id, func(sec *secret) {
		sec.value = value
		if sec.fieldNames == nil {
			return
		}
		if fields, err := wire.ParseFields(value); err == nil {
			names := joinNames(fields)
			sec.fieldNames = &names
		}
	})
}

// RotateFields is Rotate for a structured secret: the new value is the
// JSON object text of fields, and the secret becomes (or stays)
// structured. It reports whether the secret exists.
func (s *Server) RotateFields(id string, fields map[string]string) bool {
	value, names := encodeFields(fields)
	return s.update(id, func(sec *secret) { sec.value, sec.fieldNames = value, &names })
}

// update applies change to an existing secret and gives it a new version.
// It reports whether the secret exists.
func (s *Server) update(id string, change func(*secret)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secrets[id]
	if sec == nil {
		return false
	}
	change(sec)
	s.version++
	sec.version = s.version
	return true
}

// Delete removes a secret: reads get 404 and polls report "deleted". It
// reports whether the secret existed.
func (s *Server) Delete(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.secrets[id]
	delete(s.secrets, id)
	return ok
}

// Revoke takes away a machine's access to a secret: reads get 403, the
// secret leaves the machine's list and export responses, and polls report
// "access_denied". Grants are kept by secret id, whether or not the secret
// exists, so Revoke may come before PutSecret and survives Delete. It
// reports whether machineID names a registered machine; if not, nothing
// happens.
func (s *Server) Revoke(machineID, secretID string) bool {
	return s.setRevoked(machineID, secretID, true)
}

// Grant undoes Revoke. Every machine may read every secret by default. It
// reports whether machineID names a registered machine.
func (s *Server) Grant(machineID, secretID string) bool {
	return s.setRevoked(machineID, secretID, false)
}

func (s *Server) setRevoked(machineID, secretID string, revoked bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machines[machineID]
	if m == nil {
		return false
	}
	if revoked {
		m.revoked[secretID] = true
	} else {
		delete(m.revoked, secretID)
	}
	return true
}

// readable returns the secrets m may read, sorted by id, keeping those for
// which keep returns true. s.mu must be held.
func (s *Server) readable(m *Machine, keep func(*secret) bool) []*secret {
	out := make([]*secret, 0, len(s.secrets))
	for id, sec := range s.secrets {
		if !m.revoked[id] && keep(sec) {
			out = append(out, sec)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// inProject returns a filter for secrets of the given project; "" keeps
// every secret.
func inProject(projectID string) func(*secret) bool {
	return func(sec *secret) bool {
		return projectID == "" || (sec.projectID != nil && *sec.projectID == projectID)
	}
}

// encodeFields returns the JSON object text of fields (keys sorted, no
// HTML escaping) and the sorted field names joined by commas.
func encodeFields(fields map[string]string) (value, names string) {
	if fields == nil {
		fields = map[string]string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(fields) // a map[string]string always encodes
	return strings.TrimSuffix(buf.String(), "\n"), joinNames(fields)
}

// joinNames returns the sorted keys of fields joined by commas.
func joinNames(fields map[string]string) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}
