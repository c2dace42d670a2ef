package sikkerkeytest

import (
	"net/http"
	"strconv"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

const (
	// timestampWindow is how far, in whole seconds, X-Timestamp may be from
	// the server clock; both bounds are accepted.
	timestampWindow = 300
	// nonceRetention is how long, in seconds of server clock after the
	// later of its timestamp and its arrival, a nonce is remembered. A
	// nonce can only be replayed while its timestamp is inside the window,
	// so 600 s is more than enough.
	nonceRetention = 600
	// minPrune is the nonce count below which a machine never prunes.
	minPrune = 1024
)

// apiError is an error answer: its status and the message of its
// {"error": ...} body.
type apiError struct {
	status int
	msg    string
}

func unauthorized(msg string) *apiError {
	return &apiError{http.StatusUnauthorized, msg}
}

// authenticate checks the signature headers of a request to a machine
// route (§3, §12g) and returns the calling machine. path is the raw
// request path, body the raw body bytes received. Checks, in order:
// no query string, the four headers present once each, a known machine,
// the timestamp within ±300 s of the server clock, the signature, a
// nonce the machine has not used, an unexpired machine (all 401), and an
// enabled machine (403). A nonce is used up by any correctly signed
// request inside the window, even one that then gets 403.
func (s *Server) authenticate(r *http.Request, path string, hasQuery bool, body []byte) (*Machine, *apiError) {
	if hasQuery {
		return nil, unauthorized("query strings are not allowed on signed routes")
	}
	machineID, ok1 := singleHeader(r.Header, wire.HeaderMachineID)
	tsText, ok2 := singleHeader(r.Header, wire.HeaderTimestamp)
	nonce, ok3 := singleHeader(r.Header, wire.HeaderNonce)
	signature, ok4 := singleHeader(r.Header, wire.HeaderSignature)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, unauthorized("missing or repeated authentication headers")
	}

	s.mu.Lock()
	m := s.machines[machineID]
	s.mu.Unlock()
	if m == nil {
		return nil, unauthorized("unknown machine")
	}

	ts, ok := parseTimestamp(tsText)
	if !ok {
		return nil, unauthorized("invalid timestamp")
	}
	now := s.now()
	if sec := now.Unix(); ts < sec-timestampWindow || ts > sec+timestampWindow {
		return nil, unauthorized("timestamp outside the allowed window")
	}

	if !wire.Verify(m.pub, r.Method, path, ts, nonce, body, signature) {
		return nil, unauthorized("invalid signature")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.machines[machineID] != m:
		return nil, unauthorized("unknown machine")
	case !m.useNonce(nonce, max(ts, now.Unix())+nonceRetention, now.Unix()):
		return nil, unauthorized("nonce already used")
	case !m.expiresAt.IsZero() && !now.Before(m.expiresAt):
		return nil, unauthorized("machine expired")
	case m.disabled:
		return nil, &apiError{http.StatusForbidden, "machine is disabled"}
	}
	return m, nil
}

// singleHeader returns the value of a header that must appear exactly
// once and be non-empty.
func singleHeader(h http.Header, name string) (string, bool) {
	v := h.Values(name)
	if len(v) != 1 || v[0] == "" {
		return "", false
	}
	return v[0], true
}

// parseTimestamp parses decimal Unix seconds: 1 to 18 ASCII digits, no
// sign, no spaces.
func parseTimestamp(text string) (int64, bool) {
	if len(text) == 0 || len(text) > 18 {
		return 0, false
	}
	for i := 0; i < len(text); i++ {
		if text[i] < '0' || text[i] > '9' {
			return 0, false
		}
	}
	ts, err := strconv.ParseInt(text, 10, 64)
	return ts, err == nil
}

// useNonce records nonce as used until the unix second forgetAfter and
// reports whether it was unused. Old nonces are pruned whenever the set
// has doubled since the last pruning. s.mu must be held.
func (m *Machine) useNonce(nonce string, forgetAfter, now int64) bool {
	if _, used := m.nonces[nonce]; used {
		return false
	}
	if len(m.nonces) >= max(m.pruneAt, minPrune) {
		for n, until := range m.nonces {
			if until < now {
				delete(m.nonces, n)
			}
		}
		m.pruneAt = 2 * len(m.nonces)
	}
	m.nonces[nonce] = forgetAfter
	return true
}
