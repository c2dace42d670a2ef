package sikkerkeytest

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// defaultMachineTTL is the lifetime of an enrolled machine unless
// TokenMachineTTL says otherwise.
const defaultMachineTTL = 24 * time.Hour

// enrollToken is an enrollment token and its policy.
type enrollToken struct {
	maxUses    int // <= 0: unlimited
	uses       int
	expiresAt  time.Time // zero: never
	machineTTL time.Duration
}

// TokenOption configures a token made by NewEnrollmentToken.
type TokenOption func(*tokenConfig)

type tokenConfig struct {
	uses       int
	ttl        time.Duration
	machineTTL time.Duration
}

// TokenUses sets how many machines may enroll with the token; the default
// is 1. n <= 0 means unlimited.
func TokenUses(n int) TokenOption { return func(c *tokenConfig) { c.uses = n } }

// TokenExpiresIn makes the token stop working d after it is made, by the
// server clock. By default it never expires.
func TokenExpiresIn(d time.Duration) TokenOption { return func(c *tokenConfig) { c.ttl = d } }

// TokenMachineTTL sets the lifetime of machines enrolled with the token,
// from their enrollment, by the server clock (default 24 hours; d <= 0
// keeps the default). An expired machine gets 401, as on the real service.
// The enrollment response reports the end as expiresAt in Unix seconds.
func TokenMachineTTL(d time.Duration) TokenOption { return func(c *tokenConfig) { c.machineTTL = d } }

// NewEnrollmentToken makes a token for unsigned enrollment
// (POST /v1/{vaultId}/enroll/register, as used by BootstrapInMemory) and
// returns it. Enrolled machines are approved and enabled, may read every
// secret like any other machine, and can be found with Server.Machine
// using the machineId of the response. The response's apiUrl is URL()
// (http://127.0.0.1:<port> without TLS: clients do not check the returned
// URL against the official SDKs' localhost prefix, and this project's HTTPS
// rule admits 127.0.0.1), and its expiresAt is in Unix seconds.
func (s *Server) NewEnrollmentToken(opts ...TokenOption) string {
	cfg := tokenConfig{uses: 1, machineTTL: defaultMachineTTL}
	for _, o := range opts {
		o(&cfg)
	}
	t := &enrollToken{maxUses: cfg.uses, machineTTL: cfg.machineTTL}
	if t.machineTTL <= 0 {
		t.machineTTL = defaultMachineTTL
	}
	if cfg.ttl > 0 {
		t.expiresAt = s.now().Add(cfg.ttl)
	}
	token := newToken()
	s.mu.Lock()
	s.tokens[token] = t
	s.mu.Unlock()
	return token
}

// enroll serves POST /v1/{vaultId}/enroll/register: unsigned, body
// wire.EnrollRequest. A wrong vault is 404; a query string, a missing
// token or a publicKey that is not the standard base64 of 32 bytes is
// 400; a non-JSON Content-Type is 415; an unknown, used-up or expired token
// is 401. On success the new machine is named after name, else hostname,
// else "machine", and the answer's apiUrl is URL().
func (x *exchange) enroll() {
	s := x.s
	if x.arg != s.vaultID {
		x.failWith(http.StatusNotFound, "vault not found")
		return
	}
	if x.hasQuery {
		x.failWith(http.StatusBadRequest, "query strings are not allowed")
		return
	}
	if !jsonContentType(x.r.Header.Get("Content-Type")) {
		x.failWith(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	var req wire.EnrollRequest
	if !x.decode(&req, false) {
		return
	}
	if req.Token == "" {
		x.failWith(http.StatusBadRequest, "token is required")
		return
	}
	pub, err := base64.StdEncoding.Strict().DecodeString(req.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		x.failWith(http.StatusBadRequest, "publicKey must be the standard base64 of a 32-byte Ed25519 public key")
		return
	}
	now := s.now()
	ttl, ok := s.useToken(req.Token, now)
	if !ok {
		x.failWith(http.StatusUnauthorized, "invalid or expired enrollment token")
		return
	}
	name := req.Name
	if name == "" {
		name = req.Hostname
	}
	if name == "" {
		name = "machine"
	}
	m := s.addMachine(name, nil, ed25519.PublicKey(pub), now.Add(ttl))
	x.reply(http.StatusOK, wire.EnrollResponse{
		MachineID:   m.id,
		MachineName: m.name,
		VaultID:     s.vaultID,
		ExpiresAt:   m.expiresAt.Unix(),
		APIURL:      s.URL(),
	})
}

// useToken spends one use of a token and returns the lifetime of the
// machine it enrolls; false if the token is unknown, used up or expired.
func (s *Server) useToken(token string, now time.Time) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[token]
	if t == nil || (t.maxUses > 0 && t.uses >= t.maxUses) || (!t.expiresAt.IsZero() && !now.Before(t.expiresAt)) {
		return 0, false
	}
	t.uses++
	return t.machineTTL, true
}
