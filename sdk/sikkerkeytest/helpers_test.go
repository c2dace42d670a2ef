package sikkerkeytest_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// harness is a server plus a client that signs requests the way every
// SikkerKey client does (§3).
type harness struct {
	t     *testing.T
	srv   *sikkerkeytest.Server
	hc    *http.Client
	clock *fakeClock // nil: real time
}

func newHarness(t *testing.T, opts ...sikkerkeytest.Option) *harness {
	t.Helper()
	srv := sikkerkeytest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, hc: srv.HTTPClient()}
}

// newClockHarness is newHarness with a fake clock at unix second start.
func newClockHarness(t *testing.T, start int64, opts ...sikkerkeytest.Option) *harness {
	t.Helper()
	c := &fakeClock{now: time.Unix(start, 0)}
	h := newHarness(t, append([]sikkerkeytest.Option{sikkerkeytest.WithClock(c.Now)}, opts...)...)
	h.clock = c
	return h
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (h *harness) unix() int64 {
	if h.clock != nil {
		return h.clock.Now().Unix()
	}
	return time.Now().Unix()
}

// request builds an unsigned request for target (a path, possibly with a
// query string). A non-nil body is sent as application/json.
func (h *harness) request(method, target string, body []byte) *http.Request {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL()+target, r)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// signAs sets the four signature headers for machine id and key, signing
// method, path, ts, nonce and body.
func signAs(req *http.Request, id string, key ed25519.PrivateKey, path string, ts int64, nonce string, body []byte) {
	req.Header.Set(wire.HeaderMachineID, id)
	req.Header.Set(wire.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(wire.HeaderNonce, nonce)
	req.Header.Set(wire.HeaderSignature, wire.Sign(key, req.Method, path, ts, nonce, body))
}

// signed builds a correctly signed request from m for path.
func (h *harness) signed(m *sikkerkeytest.Machine, method, path string, body []byte) *http.Request {
	h.t.Helper()
	req := h.request(method, path, body)
	signAs(req, m.ID(), m.PrivateKey(), path, h.unix(), wire.NewNonce(), body)
	return req
}

// result is a response read in full.
type result struct {
	status int
	header http.Header
	raw    []byte
	obj    map[string]any // the body decoded as a JSON object, if it is one
}

func (h *harness) do(req *http.Request) result {
	h.t.Helper()
	resp, err := h.hc.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	res := result{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &res.obj)
	return res
}

// call sends a signed request from m; body may be nil, []byte, string or
// any value to encode as JSON.
func (h *harness) call(m *sikkerkeytest.Machine, method, path string, body any) result {
	h.t.Helper()
	return h.do(h.signed(m, method, path, encodeBody(h.t, body)))
}

func encodeBody(t *testing.T, body any) []byte {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case []byte:
		return b
	case string:
		return []byte(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
}

func (h *harness) get(m *sikkerkeytest.Machine, id string) result {
	h.t.Helper()
	return h.call(m, http.MethodGet, wire.PathSecretPrefix+id, nil)
}

func (h *harness) poll(m *sikkerkeytest.Machine, ids ...string) map[string]string {
	h.t.Helper()
	res := h.call(m, http.MethodPost, wire.PathPoll, wire.PollRequest{Watch: append([]string{}, ids...)})
	wantStatus(h.t, res, http.StatusOK)
	var pr wire.PollResponse
	if err := json.Unmarshal(res.raw, &pr); err != nil {
		h.t.Fatal(err)
	}
	out := map[string]string{}
	for id, c := range pr.Changes {
		out[id] = c.Status
	}
	return out
}

func wantStatus(t *testing.T, res result, want int) {
	t.Helper()
	if res.status != want {
		t.Fatalf("status %d, want %d; body %s", res.status, want, res.raw)
	}
	if want >= 400 {
		wantKeys(t, res.obj, "error")
		if msg, _ := res.obj["error"].(string); msg == "" {
			t.Fatalf("error body without a message: %s", res.raw)
		}
	}
}

// wantKeys fails unless obj has exactly the given keys.
func wantKeys(t *testing.T, obj any, keys ...string) {
	t.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		t.Fatalf("not a JSON object: %#v", obj)
	}
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	want := append([]string{}, keys...)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
}

func wantChanges(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
}
