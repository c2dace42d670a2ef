package sdk_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// rawListener serves each connection with fn, for answers net/http would
// never produce.
func rawListener(t *testing.T, fn func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = http.ReadRequest(bufio.NewReader(conn))
			fn(conn)
			conn.Close()
		}
	}()
	return "http://" + l.Addr().String()
}

func hostileClient(t *testing.T, url string, opts ...sdk.Option) *sdk.Client {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	c, err := sdk.NewFromKey(sdk.Identity{MachineID: "m", APIURL: url}, key,
		append([]sdk.Option{sdk.WithRetryBackoff(), sdk.WithTimeout(500 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConnectionClosedMidBody(t *testing.T) {
	t.Parallel()
	url := rawListener(t, func(c net.Conn) {
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"value\":\"par"))
	})
	_, err := hostileClient(t, url).GetSecret(context.Background(), "sk_a")
	var apiErr *sdk.APIError
	if !errors.Is(err, sdk.ErrUnavailable) || !errors.As(err, &apiErr) || apiErr.StatusCode != 0 {
		t.Fatalf("err = %v", err)
	}
}

func TestHeadersThatNeverFinish(t *testing.T) {
	t.Parallel()
	url := rawListener(t, func(c net.Conn) {
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nX-Slow: "))
		buf := make([]byte, 1)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _ = c.Read(buf) // until the client gives up and closes
	})
	start := time.Now()
	_, err := hostileClient(t, url).GetSecret(context.Background(), "sk_a")
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Fatalf("took %v with a 500 ms timeout", time.Since(start))
	}
}

func TestGarbageStatusLine(t *testing.T) {
	t.Parallel()
	url := rawListener(t, func(c net.Conn) { _, _ = c.Write([]byte("SIKKER\r\n\r\n")) })
	if _, err := hostileClient(t, url).GetSecret(context.Background(), "sk_a"); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

func TestUntrustedTLSCertificate(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(jsonAnswer(200, `{"value":"should not be read"}`))
	defer srv.Close()
	// The default client does not trust the test certificate.
	v, err := hostileClient(t, srv.URL).GetSecret(context.Background(), "sk_a")
	var apiErr *sdk.APIError
	if v != "" || !errors.As(err, &apiErr) || apiErr.StatusCode != 0 {
		t.Fatalf("untrusted certificate accepted: %q %v", v, err)
	}
}
