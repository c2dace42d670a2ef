package sikkerkeytest

import (
	"crypto/x509"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// Server is an in-process SikkerKey machine API for tests. Create one with
// NewServer and stop it with Close. All methods are safe for concurrent use.
type Server struct {
	ts          *httptest.Server
	vaultID     string
	identityURL string
	logger      *slog.Logger
	pollMin     time.Duration

	clock   atomic.Pointer[func() time.Time]
	latency atomic.Int64 // time.Duration

	closing   chan struct{}
	closeOnce sync.Once
	twin      *twinListener
	conns     connTracker

	mu       sync.Mutex
	sealed   bool
	failures []failure
	delays   []time.Duration
	drops    int
	dropped  map[string]time.Time // signatures of dropped requests, see DropNext
	machines map[string]*Machine
	secrets  map[string]*secret
	tokens   map[string]*enrollToken
	version  uint64
	requests []*Request
}

// Request is one request the server received, as reported by
// Server.Requests.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the request path as sent (still escaped), without any query
	// string.
	Path string
	// MachineID is the X-Machine-Id header as sent, "" when absent (for
	// example on enrollment requests).
	MachineID string
	// Status is the status code of the response. It is 0 while no response
	// has been started yet, and stays 0 when the connection was dropped
	// (DropNext), the client went away, or the server closed first.
	Status int
}

// NewServer starts a server on a loopback port and returns it. It serves
// plain HTTP on 127.0.0.1 (or on the listener given by WithListener)
// unless WithTLS is given; when possible it also listens on [::1] at the
// same port, so http://localhost:<port> works whichever loopback address a
// client resolves localhost to. The caller must call Close when done.
//
// NewServer panics if an option is invalid (see WithVaultID and
// WithListener).
func NewServer(opts ...Option) *Server {
	cfg := config{vaultID: "vault_" + randomAlnum(10)}
	for _, o := range opts {
		o(&cfg)
	}
	if !wire.ValidSecretID(cfg.vaultID) {
		panic("sikkerkeytest: invalid vault id " + strconv.Quote(cfg.vaultID))
	}
	if cfg.ln != nil {
		if _, ok := cfg.ln.Addr().(*net.TCPAddr); !ok {
			panic("sikkerkeytest: WithListener: not a TCP listener")
		}
	}
	s := &Server{
		vaultID:  cfg.vaultID,
		logger:   cfg.logger,
		pollMin:  cfg.pollMin,
		closing:  make(chan struct{}),
		machines: make(map[string]*Machine),
		secrets:  make(map[string]*secret),
		tokens:   make(map[string]*enrollToken),
	}
	s.SetClock(cfg.clock)
	s.SetLatency(cfg.latency)

	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	if cfg.ln != nil {
		_ = s.ts.Listener.Close()
		s.ts.Listener = cfg.ln
	}
	s.ts.Config.ConnState = s.conns.track
	s.ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	if cfg.logger != nil { // TLS handshake failures and the like
		s.ts.Config.ErrorLog = slog.NewLogLogger(cfg.logger.Handler(), slog.LevelWarn)
	}
	if cfg.tls {
		s.ts.StartTLS()
	} else {
		s.ts.Start()
	}
	port := s.ts.Listener.Addr().(*net.TCPAddr).Port
	if cfg.tls {
		s.identityURL = s.ts.URL
	} else {
		s.identityURL = "http://localhost:" + strconv.Itoa(port)
	}
	s.twin = startTwin(s.ts, cfg.tls)
	return s
}

// URL returns the base URL of the server, without a trailing slash:
// http://127.0.0.1:<port>, or https://127.0.0.1:<port> with WithTLS. With
// WithListener its host is the listener's address.
func (s *Server) URL() string { return s.ts.URL }

// VaultID returns the vault id of the server.
func (s *Server) VaultID() string { return s.vaultID }

// HTTPClient returns a new *http.Client for the server. With WithTLS it
// trusts the server's certificate. The clients returned share one
// transport whose idle connections Close closes, so they leave no
// goroutines behind.
func (s *Server) HTTPClient() *http.Client {
	c := *s.ts.Client()
	return &c
}

// NewHTTPClient returns an *http.Client over a transport of its own, which
// trusts the server's certificate under WithTLS: every client made this way
// opens new connections (and does new TLS handshakes), as a service does at
// start-up, which is what a "cold" benchmark measures. The caller releases
// its connections with CloseIdleConnections.
func (s *Server) NewHTTPClient() *http.Client {
	tr := s.ts.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr}
}

// Certificate returns the server's TLS certificate, or nil without
// WithTLS.
func (s *Server) Certificate() *x509.Certificate { return s.ts.Certificate() }

// Close shuts the server down and waits until every request handler has
// returned. Requests still waiting out latency or DelayNext are cut off
// without a response. Close may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.twin.close()
		s.ts.Close()
	})
}

// SetClock replaces the server clock (see WithClock); nil means time.Now.
// Tests may call it at any time, for example to move time forward.
func (s *Server) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.clock.Store(&now)
}

// now returns the server clock's current time.
func (s *Server) now() time.Time { return (*s.clock.Load())() }

// SetLatency sets the delay added to every response (see WithLatency).
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// Requests returns a copy of the requests received so far, in arrival
// order, including those that failed authentication, were injected
// failures or were dropped. The server remembers at least the latest
// 100,000 requests; older ones may be forgotten.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = *r
	}
	return out
}

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}
