package sikkerkeytest

import (
	"crypto/ed25519"
	"crypto/rand"
	"sort"
	"strconv"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// Machine is a machine registered with a Server: an id, a name and an
// Ed25519 key. A new machine is approved and enabled, and may read every
// secret until Server.Revoke says otherwise. All methods are safe for
// concurrent use.
type Machine struct {
	s    *Server
	id   string
	name string
	key  ed25519.PrivateKey // nil for enrolled machines
	pub  ed25519.PublicKey

	// Guarded by s.mu.
	disabled  bool
	expiresAt time.Time // zero: never
	revoked   map[string]bool
	seen      map[string]watchState
	nonces    map[string]int64 // nonce -> unix second after which it may be forgotten
	pruneAt   int
	lastPoll  time.Time
}

// AddMachine registers a new approved and enabled machine with a fresh
// Ed25519 key and a random UUID as its id.
func (s *Server) AddMachine(name string) *Machine {
	_, key, _ := ed25519.GenerateKey(rand.Reader) // never fails with crypto/rand
	return s.AddMachineWithKey(name, key)
}

// AddMachineWithKey is like AddMachine but uses the given private key, for
// example a fixed test key. It panics, as a programmer error, if key is not
// an ed25519.PrivateKeySize-byte key.
func (s *Server) AddMachineWithKey(name string, key ed25519.PrivateKey) *Machine {
	if len(key) != ed25519.PrivateKeySize {
		panic("sikkerkeytest: AddMachineWithKey: key is not an Ed25519 private key")
	}
	key = append(ed25519.PrivateKey(nil), key...)
	return s.addMachine(name, key, key.Public().(ed25519.PublicKey), time.Time{})
}

// AddMachineWithID is like AddMachineWithKey but registers the machine
// under the given id instead of a random UUID, so that an identity kept on
// disk (a machine id and its key) works again with a new server, as
// cmd/sikkerkey-devserver does across restarts. A nil key means a fresh
// one. It panics, as a programmer error, if id is empty, is not made only
// of A-Z, a-z, 0-9, '_' and '-' (a UUID is), or is already registered, or
// if key is neither nil nor an ed25519.PrivateKeySize-byte key.
func (s *Server) AddMachineWithID(id, name string, key ed25519.PrivateKey) *Machine {
	if !wire.ValidSecretID(id) {
		panic("sikkerkeytest: AddMachineWithID: invalid machine id " + strconv.Quote(id))
	}
	if key == nil {
		_, key, _ = ed25519.GenerateKey(rand.Reader)
	}
	if len(key) != ed25519.PrivateKeySize {
		panic("sikkerkeytest: AddMachineWithID: key is not an Ed25519 private key")
	}
	key = append(ed25519.PrivateKey(nil), key...)
	m := s.newMachine(id, name, key, key.Public().(ed25519.PublicKey), time.Time{})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.machines[id] != nil {
		panic("sikkerkeytest: AddMachineWithID: machine " + strconv.Quote(id) + " is already registered")
	}
	s.machines[id] = m
	return m
}

func (s *Server) addMachine(name string, key ed25519.PrivateKey, pub ed25519.PublicKey, expiresAt time.Time) *Machine {
	m := s.newMachine(newUUID(), name, key, pub, expiresAt)
	s.mu.Lock()
	s.machines[m.id] = m
	s.mu.Unlock()
	return m
}

func (s *Server) newMachine(id, name string, key ed25519.PrivateKey, pub ed25519.PublicKey, expiresAt time.Time) *Machine {
	return &Machine{
		s:         s,
		id:        id,
		name:      name,
		key:       key,
		pub:       pub,
		expiresAt: expiresAt,
		revoked:   make(map[string]bool),
		seen:      make(map[string]watchState),
		nonces:    make(map[string]int64),
	}
}

// Machine returns the registered machine with the given id, or nil. Use
// it to reach machines created by enrollment.
func (s *Server) Machine(id string) *Machine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.machines[id]
}

// Machines returns the registered machines, sorted by id.
func (s *Server) Machines() []*Machine {
	s.mu.Lock()
	out := make([]*Machine, 0, len(s.machines))
	for _, m := range s.machines {
		out = append(out, m)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// ID returns the machine id, the value clients send as X-Machine-Id.
func (m *Machine) ID() string { return m.id }

// Name returns the machine name.
func (m *Machine) Name() string { return m.name }

// PrivateKey returns a copy of the machine's private key. It is nil for a
// machine created by enrollment, whose key only the client holds.
func (m *Machine) PrivateKey() ed25519.PrivateKey {
	if m.key == nil {
		return nil
	}
	return append(ed25519.PrivateKey(nil), m.key...)
}

// PublicKey returns a copy of the machine's public key.
func (m *Machine) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), m.pub...)
}

// ExpiresAt returns when the machine stops authenticating (requests get
// 401), or the zero time if it never expires. Only enrolled machines
// expire.
func (m *Machine) ExpiresAt() time.Time { return m.expiresAt }

// Disable makes every request from the machine fail with 403 until Enable.
func (m *Machine) Disable() { m.setDisabled(true) }

// Enable undoes Disable.
func (m *Machine) Enable() { m.setDisabled(false) }

func (m *Machine) setDisabled(v bool) {
	m.s.mu.Lock()
	m.disabled = v
	m.s.mu.Unlock()
}

// Remove unregisters the machine: its requests then fail with 401, as for
// an unknown machine. It cannot be undone.
func (m *Machine) Remove() {
	m.s.mu.Lock()
	if m.s.machines[m.id] == m {
		delete(m.s.machines, m.id)
	}
	m.s.mu.Unlock()
}
