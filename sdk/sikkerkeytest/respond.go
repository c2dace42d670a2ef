package sikkerkeytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

const (
	// maxBody caps request bodies; a larger one gets 413.
	maxBody = 1 << 20
	// keptRequests is how many of the latest requests Requests is sure to
	// return; older ones may be forgotten, so long benchmarks stay small.
	keptRequests = 100_000
)

// exchange is one request being served.
type exchange struct {
	s        *Server
	w        http.ResponseWriter
	r        *http.Request
	rec      *Request // the entry in Server.requests
	start    time.Time
	path     string // raw request path, without the query string
	hasQuery bool
	arg      string   // the route parameter: secret id or vault id
	body     []byte   // the raw body bytes received
	m        *Machine // the authenticated machine on signed routes
}

// record appends the request to the server's log and returns its exchange.
func (s *Server) record(w http.ResponseWriter, r *http.Request) *exchange {
	x := &exchange{s: s, w: w, r: r, start: time.Now()}
	x.path, _, x.hasQuery = strings.Cut(r.RequestURI, "?")
	x.rec = &Request{Method: r.Method, Path: x.path, MachineID: r.Header.Get(wire.HeaderMachineID)}
	s.mu.Lock()
	if len(s.requests) >= 2*keptRequests {
		s.requests = append([]*Request(nil), s.requests[len(s.requests)-keptRequests:]...)
	}
	s.requests = append(s.requests, x.rec)
	s.mu.Unlock()
	return x
}

// logRequest writes the request's log line, if a logger is set.
func (x *exchange) logRequest() {
	if x.s.logger == nil {
		return
	}
	x.s.mu.Lock()
	status := x.rec.Status
	x.s.mu.Unlock()
	x.s.logger.LogAttrs(x.r.Context(), slog.LevelInfo, "sikkerkeytest request",
		slog.String("method", x.r.Method),
		slog.String("path", x.path),
		slog.String("machine", x.rec.MachineID),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(x.start)),
	)
}

// reply writes v as a JSON response with the given status. The status is
// recorded before anything is sent, so Requests sees it as soon as the
// client has the response.
func (x *exchange) reply(status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the wire types always encode
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h := x.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	x.s.mu.Lock()
	x.rec.Status = status
	x.s.mu.Unlock()
	x.w.WriteHeader(status)
	_, _ = x.w.Write(body)
}

// fail writes an error response, exactly {"error": msg}.
func (x *exchange) fail(e *apiError) {
	x.reply(e.status, wire.ErrorResponse{Error: e.msg})
}

// failWith is fail for a status and message.
func (x *exchange) failWith(status int, msg string) {
	x.fail(&apiError{status, msg})
}

// drop closes the connection without any response.
func (x *exchange) drop() {
	conn, _, err := http.NewResponseController(x.w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // makes net/http close the connection
	}
	_ = conn.Close()
}

// readBody reads the whole body, up to maxBody bytes, into x.body.
func (x *exchange) readBody() bool {
	body, err := io.ReadAll(http.MaxBytesReader(x.w, x.r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			x.failWith(http.StatusRequestEntityTooLarge, "request body too large")
		} else {
			x.failWith(http.StatusBadRequest, "cannot read request body")
		}
		return false
	}
	x.body = body
	return true
}

// decode parses the JSON body into v. An empty body is accepted, leaving v
// alone, only when optional is true. Unknown keys are ignored.
func (x *exchange) decode(v any, optional bool) bool {
	if len(x.body) == 0 {
		if optional {
			return true
		}
		x.failWith(http.StatusBadRequest, "request body is required")
		return false
	}
	if err := json.Unmarshal(x.body, v); err != nil {
		x.failWith(http.StatusBadRequest, "malformed JSON body")
		return false
	}
	return true
}

// jsonContentType reports whether a Content-Type header value is
// application/json, optionally with charset=utf-8 (as .NET sends).
func jsonContentType(value string) bool {
	mediaType, params, err := mime.ParseMediaType(value)
	if err != nil || mediaType != "application/json" {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}
