package sdk_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// rawServer is an httptest server whose handler the test writes, for
// answers no well-behaved server would give. It checks every request's
// signature and records the nonces it saw.
type rawServer struct {
	*httptest.Server
	pub    ed25519.PublicKey
	mu     sync.Mutex
	nonces []string
	bodies []string
	ctypes []string
	conns  atomic.Int32
	badSig atomic.Int32
}

func newRawServer(t *testing.T, h http.HandlerFunc, opts ...sdk.Option) (*rawServer, *sdk.Client) {
	t.Helper()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	rs := &rawServer{pub: pub}
	rs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get(wire.HeaderTimestamp), 10, 64)
		if !wire.Verify(rs.pub, r.Method, r.URL.Path, ts, r.Header.Get(wire.HeaderNonce), body, r.Header.Get(wire.HeaderSignature)) ||
			r.Header.Get(wire.HeaderMachineID) != "m_test" {
			rs.badSig.Add(1)
		}
		rs.mu.Lock()
		rs.nonces = append(rs.nonces, r.Header.Get(wire.HeaderNonce))
		rs.bodies = append(rs.bodies, string(body))
		rs.ctypes = append(rs.ctypes, r.Header.Get("Content-Type"))
		rs.mu.Unlock()
		h(w, r)
	}))
	rs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			rs.conns.Add(1)
		}
	}
	rs.Start()
	t.Cleanup(rs.Close)
	c, err := sdk.NewFromKey(sdk.Identity{MachineID: "m_test", VaultID: "vault_t", APIURL: rs.URL}, key,
		append([]sdk.Option{sdk.WithRetryBackoff(time.Millisecond, time.Millisecond, time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if rs.badSig.Load() != 0 {
		t.Fatal("bad signature")
	}
	return rs, c
}

func (rs *rawServer) requests() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return len(rs.nonces)
}

func jsonAnswer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// sequence answers each request with the next handler, the last one
// repeating.
func sequence(hs ...http.HandlerFunc) http.HandlerFunc {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		hs[min(i, len(hs)-1)](w, r)
	}
}

func TestRetriedStatuses(t *testing.T) {
	t.Parallel()
	for _, status := range []int{429, 503} {
		rs, c := newRawServer(t, sequence(jsonAnswer(status, `{"error":"busy"}`), jsonAnswer(status, `{"error":"busy"}`), jsonAnswer(200, `{"value":"v"}`)))
		v, err := c.GetSecret(context.Background(), "sk_a")
		if err != nil || v != "v" {
			t.Fatalf("%d: %q %v", status, v, err)
		}
		if rs.requests() != 3 || rs.badSig.Load() != 0 {
			t.Fatalf("%d: %d requests, %d bad signatures", status, rs.requests(), rs.badSig.Load())
		}
		// Every attempt had its own nonce.
		seen := map[string]bool{}
		for _, n := range rs.nonces {
			if seen[n] {
				t.Fatalf("nonce reused: %v", rs.nonces)
			}
			seen[n] = true
		}
	}
}

func TestRetriesRunOut(t *testing.T) {
	t.Parallel()
	rs, c := newRawServer(t, jsonAnswer(503, `{"error":"sealed"}`))
	_, err := c.GetSecret(context.Background(), "sk_a")
	var apiErr *sdk.APIError
	if !errors.Is(err, sdk.ErrServerSealed) || !errors.Is(err, sdk.ErrUnavailable) || !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || apiErr.Message != "sealed" {
		t.Fatalf("err = %v", err)
	}
	if rs.requests() != 4 {
		t.Fatalf("%d requests, want 4 (1 + 3 retries)", rs.requests())
	}
}

func TestNotRetriedStatuses(t *testing.T) {
	t.Parallel()
	cases := map[int]error{401: sdk.ErrAuthentication, 403: sdk.ErrAccessDenied, 404: sdk.ErrNotFound, 409: sdk.ErrConflict, 500: nil, 502: sdk.ErrUnavailable, 400: nil}
	for status, sentinel := range cases {
		rs, c := newRawServer(t, jsonAnswer(status, `{"error":"no"}`))
		_, err := c.GetSecret(context.Background(), "sk_a")
		var apiErr *sdk.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
			t.Fatalf("%d: %v", status, err)
		}
		if sentinel != nil && !errors.Is(err, sentinel) {
			t.Fatalf("%d: %v is not %v", status, err, sentinel)
		}
		if rs.requests() != 1 {
			t.Fatalf("%d retried: %d requests", status, rs.requests())
		}
	}
}

func TestErrorMessageFallbacks(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{`{"error":"denied here"}`: "denied here", "plain words": "plain words", "": "HTTP 418"} {
		_, c := newRawServer(t, jsonAnswer(418, body))
		_, err := c.GetSecret(context.Background(), "sk_a")
		var apiErr *sdk.APIError
		if !errors.As(err, &apiErr) || apiErr.Message != want || !strings.Contains(err.Error(), want) {
			t.Fatalf("body %q: %v", body, err)
		}
	}
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	t.Parallel()
	var times []time.Time
	var mu sync.Mutex
	h := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		n := len(times)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			jsonAnswer(429, `{"error":"slow down"}`)(w, r)
			return
		}
		jsonAnswer(200, `{"value":"v"}`)(w, r)
	}
	_, c := newRawServer(t, h)
	if _, err := c.GetSecret(context.Background(), "sk_a"); err != nil {
		t.Fatal(err)
	}
	// The backoff is 1 ms; only Retry-After explains a wait of ~1 s.
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
		t.Fatalf("retry after %v, Retry-After ignored", gap)
	}

	// A huge Retry-After is capped.
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	_ = pub
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(429)
			return
		}
		_, _ = io.WriteString(w, `{"value":"v"}`)
	}))
	defer srv.Close()
	c2, _ := sdk.NewFromKey(sdk.Identity{MachineID: "m", APIURL: srv.URL}, key, sdk.WithRetryBackoff(time.Millisecond), sdk.WithMaxRetryAfter(10*time.Millisecond))
	defer c2.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c2.GetSecret(ctx, "sk_a"); err != nil {
		t.Fatalf("capped Retry-After: %v", err)
	}
}

func TestContextEndsRetryWait(t *testing.T) {
	t.Parallel()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	_ = pub
	answered := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jsonAnswer(503, `{"error":"sealed"}`)(w, r)
		answered <- struct{}{}
	}))
	defer srv.Close()
	c, _ := sdk.NewFromKey(sdk.Identity{MachineID: "m", APIURL: srv.URL}, key, sdk.WithRetryBackoff(time.Hour))
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.GetSecret(ctx, "sk_a")
		done <- err
	}()
	<-answered                        // the first attempt failed...
	time.Sleep(20 * time.Millisecond) // ...and the hour-long wait began
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !errors.Is(err, sdk.ErrServerSealed) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancel did not end the retry wait")
	}
}

func TestPerAttemptTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	_ = pub
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select { // headers that never come
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		_, _ = io.WriteString(w, `{"value":"second"}`)
	}))
	defer srv.Close()
	c, _ := sdk.NewFromKey(sdk.Identity{MachineID: "m", APIURL: srv.URL}, key, sdk.WithTimeout(time.Second), sdk.WithRetryBackoff(time.Millisecond))
	defer c.Close()
	v, err := c.GetSecret(context.Background(), "sk_a")
	if err != nil || v != "second" {
		t.Fatalf("timed-out attempt was not retried: %q %v", v, err)
	}
}

func TestNetworkErrorIsUnavailable(t *testing.T) {
	t.Parallel()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	c, _ := sdk.NewFromKey(sdk.Identity{MachineID: "m", APIURL: "http://" + addr}, key, sdk.WithRetryBackoff(time.Millisecond))
	defer c.Close()
	_, err := c.GetSecret(context.Background(), "sk_a")
	var apiErr *sdk.APIError
	if !errors.Is(err, sdk.ErrUnavailable) || !errors.As(err, &apiErr) || apiErr.StatusCode != 0 || apiErr.Err == nil {
		t.Fatalf("err = %v", err)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	other := httptest.NewServer(jsonAnswer(200, `{"value":"from elsewhere"}`))
	defer other.Close()
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, target := range []string{other.URL + "/v1/secret/sk_a", "/v1/secret/sk_b"} {
			rs, c := newRawServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v1/secret/sk_b" {
					jsonAnswer(200, `{"value":"same host"}`)(w, r)
					return
				}
				http.Redirect(w, r, target, status)
			})
			v, err := c.GetSecret(context.Background(), "sk_a")
			var apiErr *sdk.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != status || v != "" {
				t.Fatalf("%d to %s: %q %v", status, target, v, err)
			}
			if rs.requests() != 1 {
				t.Fatalf("redirect followed: %d requests", rs.requests())
			}
		}
	}
}

func TestMalformedAnswers(t *testing.T) {
	t.Parallel()
	huge := `{"value":"` + strings.Repeat("a", sdk.MaxResponseBytes) + `"}`
	for name, body := range map[string]string{
		"invalid json": "{nope", "wrong shape": `{"value":5}`, "error body with 200": `{"error":"x"}`,
		"array": `[]`, "too large": huge, "empty": "",
	} {
		_, c := newRawServer(t, jsonAnswer(200, body))
		_, err := c.GetSecret(context.Background(), "sk_a")
		if !errors.Is(err, sdk.ErrInvalidResponse) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, body := range map[string]string{"list": `{"secrets":{}}`, "list null": `{"secrets":null}`} {
		_, c := newRawServer(t, jsonAnswer(200, body))
		if _, err := c.ListSecrets(context.Background()); !errors.Is(err, sdk.ErrInvalidResponse) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := c.Export(context.Background(), ""); !errors.Is(err, sdk.ErrInvalidResponse) {
			t.Errorf("export %s: %v", name, err)
		}
	}
	_, c := newRawServer(t, jsonAnswer(200, `{"changes":null}`))
	if _, err := c.Poll(context.Background(), []string{"sk_a"}); !errors.Is(err, sdk.ErrInvalidResponse) {
		t.Errorf("poll null changes: %v", err)
	}
}

func TestInvalidIDsMakeNoRequest(t *testing.T) {
	t.Parallel()
	rs, c := newRawServer(t, jsonAnswer(200, `{"value":"v"}`))
	ctx := context.Background()
	for _, id := range []string{"", "../x", "a/b", "a?b", "sk a", "%2e"} {
		if _, err := c.GetSecret(ctx, id); !errors.Is(err, sdk.ErrInvalidSecretID) {
			t.Errorf("GetSecret(%q): %v", id, err)
		}
		if _, err := c.GetField(ctx, id, "f"); !errors.Is(err, sdk.ErrInvalidSecretID) {
			t.Errorf("GetField(%q): %v", id, err)
		}
		if _, err := c.Poll(ctx, []string{"sk_ok", id}); !errors.Is(err, sdk.ErrInvalidSecretID) {
			t.Errorf("Poll(%q): %v", id, err)
		}
		if err := c.Watch(id, func(sdk.WatchEvent) {}); !errors.Is(err, sdk.ErrInvalidSecretID) {
			t.Errorf("Watch(%q): %v", id, err)
		}
	}
	if rs.requests() != 0 {
		t.Fatalf("%d requests made", rs.requests())
	}
}

func TestRequestBodies(t *testing.T) {
	t.Parallel()
	rs, c := newRawServer(t, jsonAnswer(200, `{"secrets":[],"changes":{}}`))
	ctx := context.Background()
	if _, err := c.Export(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Export(ctx, "prj_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListSecretsByProject(ctx, "prj_2"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Poll(ctx, []string{"sk_a", "sk_b"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"", `{"projectId":"prj_1"}`, `{"projectId":"prj_2"}`, `{"watch":["sk_a","sk_b"]}`}
	wantCT := []string{"", "application/json", "application/json", "application/json"}
	for i := range want {
		if rs.bodies[i] != want[i] || rs.ctypes[i] != wantCT[i] {
			t.Errorf("request %d: body %q content-type %q", i, rs.bodies[i], rs.ctypes[i])
		}
	}
	if rs.badSig.Load() != 0 {
		t.Fatal("bad signatures")
	}
	// An empty poll makes no request.
	before := rs.requests()
	if m, err := c.Poll(ctx, nil); err != nil || len(m) != 0 || rs.requests() != before {
		t.Fatalf("empty poll: %v %v", m, err)
	}
}

func TestConnectionsAreReused(t *testing.T) {
	t.Parallel()
	rs, c := newRawServer(t, jsonAnswer(200, `{"value":"v"}`))
	for i := 0; i < 20; i++ {
		if _, err := c.GetSecret(context.Background(), "sk_a"); err != nil {
			t.Fatal(err)
		}
	}
	if n := rs.conns.Load(); n != 1 {
		t.Fatalf("%d connections for 20 sequential requests", n)
	}
}

func TestClosedClient(t *testing.T) {
	t.Parallel()
	_, c := newRawServer(t, jsonAnswer(200, `{"value":"v"}`))
	c.Close()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSecret(context.Background(), "sk_a"); !errors.Is(err, sdk.ErrClosed) {
		t.Fatalf("GetSecret after Close: %v", err)
	}
	if err := c.Watch("sk_a", func(sdk.WatchEvent) {}); !errors.Is(err, sdk.ErrClosed) {
		t.Fatalf("Watch after Close: %v", err)
	}
}
