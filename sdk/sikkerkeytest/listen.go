package sikkerkeytest

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
)

// twinListener serves the server on the other loopback address family
// (::1 when the main listener is on 127.0.0.1) at the same port, so that
// http://localhost:<port> works whether a client resolves localhost to
// 127.0.0.1 or ::1. It is best effort: nil when that address is not
// available. Connections it accepts are tracked by the httptest server,
// whose Close waits for them.
type twinListener struct {
	l    net.Listener
	done chan struct{}
}

func startTwin(ts *httptest.Server, useTLS bool) *twinListener {
	addr, ok := ts.Listener.Addr().(*net.TCPAddr)
	if !ok {
		return nil
	}
	network, host := "tcp6", "::1"
	if addr.IP.To4() == nil {
		network, host = "tcp4", "127.0.0.1"
	}
	l, err := net.Listen(network, net.JoinHostPort(host, strconv.Itoa(addr.Port)))
	if err != nil {
		return nil
	}
	if useTLS {
		l = tls.NewListener(l, ts.TLS)
	}
	t := &twinListener{l: l, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		_ = ts.Config.Serve(l) // returns when l is closed
	}()
	return t
}

func (t *twinListener) close() {
	if t == nil {
		return
	}
	_ = t.l.Close()
	<-t.done
}

// connTracker remembers which server connections are idle (between
// requests), so DropNext can close them; see Server.DropNext.
type connTracker struct {
	mu   sync.Mutex
	idle map[net.Conn]struct{}
}

// track is the http.Server ConnState hook.
func (t *connTracker) track(c net.Conn, state http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if state != http.StateIdle {
		delete(t.idle, c)
		return
	}
	if t.idle == nil {
		t.idle = make(map[net.Conn]struct{})
	}
	t.idle[c] = struct{}{}
}

// closeIdle closes every connection that is currently idle.
func (t *connTracker) closeIdle() {
	t.mu.Lock()
	conns := make([]net.Conn, 0, len(t.idle))
	for c := range t.idle {
		conns = append(conns, c)
	}
	t.idle = nil
	t.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}
