package sikkerkeytest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// watchState is what a machine was last told about a secret: the version
// it was given (by a read, an export or a poll), or, when reported is
// set, that the secret was reported deleted or inaccessible.
type watchState struct {
	version  uint64
	reported string // "", wire.PollDeleted or wire.PollAccessDenied
}

// poll serves POST /v1/secrets/poll.
func (x *exchange) poll() {
	var req wire.PollRequest
	if !x.decode(&req, false) {
		return
	}
	if req.Watch == nil {
		x.failWith(http.StatusBadRequest, "watch must be an array of secret ids")
		return
	}
	for _, id := range req.Watch {
		if !wire.ValidSecretID(id) {
			x.failWith(http.StatusBadRequest, "invalid secret id in watch list")
			return
		}
	}
	changes, wait := x.s.pollChanges(x.m, req.Watch)
	if wait > 0 {
		x.w.Header().Set("Retry-After", retryAfter(wait))
		x.failWith(http.StatusTooManyRequests, "polling too often")
		return
	}
	x.reply(http.StatusOK, wire.PollResponse{Changes: changes})
}

// pollChanges applies the poll baseline rule (§12h) to the watched ids and
// returns the news for m. For each id:
//
//   - readable: "changed" if m was given another version before, then the
//     current version is recorded; a first sighting (never read or polled,
//     or after a deleted or access_denied report) is recorded silently;
//   - missing: "deleted", once, until the secret exists again;
//   - not granted to m: "access_denied", once, until m may read it again.
//
// With a minimum poll interval set, a poll sooner than that after m's last
// successful poll changes nothing and returns how long to wait instead.
func (s *Server) pollChanges(m *Machine, watch []string) (map[string]wire.PollChange, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.pollMin > 0 && !m.lastPoll.IsZero() {
		if wait := m.lastPoll.Add(s.pollMin).Sub(now); wait > 0 {
			return nil, wait
		}
	}
	m.lastPoll = now

	changes := make(map[string]wire.PollChange)
	for _, id := range watch {
		old, known := m.seen[id]
		sec := s.secrets[id]
		var next watchState
		switch {
		case sec == nil:
			next.reported = wire.PollDeleted
		case m.revoked[id]:
			next.reported = wire.PollAccessDenied
		default:
			next.version = sec.version
			if known && old.reported == "" && old.version != sec.version {
				changes[id] = wire.PollChange{Status: wire.PollChanged}
			}
		}
		if next.reported != "" && (!known || old.reported != next.reported) {
			changes[id] = wire.PollChange{Status: next.reported}
		}
		m.seen[id] = next
	}
	return changes, 0
}

// retryAfter formats a wait as a Retry-After value: whole seconds, rounded
// up, at least 1.
func retryAfter(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}
