package sikkerkeytest

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// failure is one injected error response.
type failure struct {
	status     int
	retryAfter time.Duration // 0: no Retry-After header
}

// Seal makes every API route, enrollment included, answer 503 with an
// error body until Unseal, as a sealed vault does. Unknown routes still
// get 404 and wrong methods 405. Injected faults (FailNext, DropNext) come
// first.
func (s *Server) Seal() { s.setSealed(true) }

// Unseal undoes Seal.
func (s *Server) Unseal() { s.setSealed(false) }

func (s *Server) setSealed(v bool) {
	s.mu.Lock()
	s.sealed = v
	s.mu.Unlock()
}

func (s *Server) isSealed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sealed
}

// FailNext makes the next requests, whatever their route or signature,
// answer with the given statuses, one request each, in order, with an
// {"error": ...} body and no other effect (nonces are not used up). Calls
// add to the queue. It panics, as a programmer error, on a status outside
// 200-599.
func (s *Server) FailNext(statuses ...int) {
	for _, st := range statuses {
		s.queueFailure(failure{status: st})
	}
}

// FailNextWithRetryAfter is FailNext for one request whose response also
// carries a Retry-After header: after in whole seconds, rounded up, at
// least 1.
func (s *Server) FailNextWithRetryAfter(status int, after time.Duration) {
	s.queueFailure(failure{status: status, retryAfter: max(after, time.Nanosecond)})
}

func (s *Server) queueFailure(f failure) {
	if f.status < 200 || f.status > 599 {
		panic(fmt.Sprintf("sikkerkeytest: invalid injected status %d", f.status))
	}
	s.mu.Lock()
	s.failures = append(s.failures, f)
	s.mu.Unlock()
}

// DelayNext delays the response to the next request by d, on top of the
// latency. Calls queue up: each delays one request.
func (s *Server) DelayNext(d time.Duration) {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
}

// DropNext makes the next n requests get their connection closed with no
// response at all (Requests reports them with status 0). Dropping comes
// before FailNext.
//
// Some clients (Go's net/http, Java's HttpURLConnection) silently resend a
// request whose reused keep-alive connection closed before any response,
// with the very same signature headers. So that such a client still sees
// the failure, an identical signed request arriving within 5 seconds of a
// drop is dropped as well, without counting towards n. DropNext also
// closes the connections that are idle when it is called, so the next
// request usually arrives on a fresh connection, which no client resends
// on.
func (s *Server) DropNext(n int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	s.drops += n
	s.mu.Unlock()
	s.conns.closeIdle()
}

// resendWindow is how long a dropped request's signature is remembered
// (see DropNext).
const resendWindow = 5 * time.Second

// pause waits out the latency and any DelayNext delay. It reports false,
// without waiting further, when the client goes away or the server closes.
func (s *Server) pause(ctx context.Context) bool {
	d := time.Duration(s.latency.Load())
	s.mu.Lock()
	if len(s.delays) > 0 {
		d += s.delays[0]
		s.delays = s.delays[1:]
	}
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.closing:
	}
	return false
}

// injectFault drops the connection or writes an injected failure when one
// is due, and reports whether it did.
func (s *Server) injectFault(x *exchange) bool {
	if s.shouldDrop(x.r.Header.Get(wire.HeaderSignature)) {
		x.drop()
		return true
	}
	s.mu.Lock()
	var f failure
	if len(s.failures) > 0 {
		f = s.failures[0]
		s.failures = s.failures[1:]
	}
	s.mu.Unlock()
	if f.status == 0 {
		return false
	}
	if f.retryAfter > 0 {
		x.w.Header().Set("Retry-After", retryAfter(f.retryAfter))
	}
	x.failWith(f.status, fmt.Sprintf("injected failure: %d %s", f.status, http.StatusText(f.status)))
	return true
}

// shouldDrop reports whether to drop a request with the given signature
// header: a drop is due, or it resends a dropped request (see DropNext).
func (s *Server) shouldDrop(signature string) bool {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if signature != "" && now.Before(s.dropped[signature]) {
		return true
	}
	if s.drops == 0 {
		return false
	}
	s.drops--
	if signature != "" {
		for sig, until := range s.dropped {
			if !now.Before(until) {
				delete(s.dropped, sig)
			}
		}
		if s.dropped == nil {
			s.dropped = make(map[string]time.Time)
		}
		s.dropped[signature] = now.Add(resendWindow)
	}
	return true
}
