package sikkerkeytest

import (
	"log/slog"
	"net"
	"time"
)

// Option configures a Server created by NewServer.
type Option func(*config)

type config struct {
	tls     bool
	clock   func() time.Time
	vaultID string
	latency time.Duration
	pollMin time.Duration
	logger  *slog.Logger
	ln      net.Listener
}

// WithTLS makes the server speak HTTPS with a self-signed certificate for
// 127.0.0.1 and ::1 (the one net/http/httptest uses). Use
// Server.HTTPClient, or Server.Certificate to build your own trust pool.
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithClock sets the clock the server checks X-Timestamp against (±300 s,
// bounds inclusive) and measures token, machine and poll-interval times
// with. The default is time.Now. A nil clock means time.Now. See also
// Server.SetClock.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithVaultID sets the vault id, which appears in the enrollment path,
// enrollment responses and identity files. It must be non-empty and made
// only of A-Z, a-z, 0-9, '_' and '-'; NewServer panics otherwise. The
// default is "vault_" followed by 10 random alphanumeric characters.
func WithVaultID(id string) Option { return func(c *config) { c.vaultID = id } }

// WithLatency adds d to every response, to simulate network distance
// (benchmarks use 2 ms for a same-region API). See also Server.SetLatency.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithPollMinInterval makes the server answer 429 with a Retry-After
// header (whole seconds, rounded up) when a machine polls again sooner
// than d after its last successful poll, like the real service's 10 second
// minimum. Zero (the default) turns the check off. Time is measured with
// the server clock.
func WithPollMinInterval(d time.Duration) Option { return func(c *config) { c.pollMin = d } }

// WithLogger logs one line per request at level Info: method, path,
// machine id header, status and duration. Secret values, signatures and
// nonces are never logged. The default is to log nothing.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithListener makes the server accept connections on l instead of a new
// listener on a random loopback port, for example to serve on a fixed port
// as cmd/sikkerkey-devserver does. l must be a TCP listener (NewServer
// panics otherwise); the server takes it over and Close closes it. The
// twin listener on the other loopback address family (see NewServer) is
// still tried at l's port. Listening on a non-loopback address exposes the
// server to the network: that is the caller's decision.
func WithListener(l net.Listener) Option { return func(c *config) { c.ln = l } }
