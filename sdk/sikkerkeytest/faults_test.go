package sikkerkeytest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

func TestFailNext(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")

	h.srv.FailNext(503, 429)
	h.srv.FailNext(500)
	// The same signed request is reused: injected failures do not use up
	// its nonce.
	req := h.signed(m, http.MethodGet, "/v1/secret/sk_a", nil)
	for _, want := range []int{503, 429, 500, 200} {
		res := h.do(req.Clone(req.Context()))
		wantStatus(t, res, want)
		if res.header.Get("Retry-After") != "" {
			t.Fatalf("%d: unexpected Retry-After", want)
		}
	}

	h.srv.FailNextWithRetryAfter(429, 1500*time.Millisecond)
	h.srv.FailNextWithRetryAfter(503, 0)
	res := h.get(m, "sk_a")
	wantStatus(t, res, 429)
	if got := res.header.Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After %q", got)
	}
	res = h.get(m, "sk_a")
	wantStatus(t, res, 503)
	if got := res.header.Get("Retry-After"); got != "1" {
		t.Fatalf("Retry-After %q", got)
	}
	wantStatus(t, h.get(m, "sk_a"), 200)

	// Any route, even unknown ones and unsigned requests.
	h.srv.FailNext(502)
	wantStatus(t, h.do(h.request(http.MethodGet, "/unknown", nil)), 502)

	defer func() {
		if recover() == nil {
			t.Fatal("FailNext(42) did not panic")
		}
	}()
	h.srv.FailNext(42)
}

func TestDropNext(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")

	// Warm up a keep-alive connection, which Go's transport would reuse
	// and, for a GET, silently retry on.
	wantStatus(t, h.get(m, "sk_a"), 200)
	h.srv.ResetRequests()

	h.srv.DropNext(2)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		path := "/v1/secret/sk_a"
		if method == http.MethodPost {
			path = wire.PathExport
		}
		resp, err := h.hc.Do(h.signed(m, method, path, nil))
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: got status %d, want a dropped connection", method, resp.StatusCode)
		}
	}
	wantStatus(t, h.get(m, "sk_a"), 200)

	// Transparent resends of a dropped request are dropped too and show
	// up as extra requests with status 0.
	reqs := h.srv.Requests()
	last := len(reqs) - 1
	for i, r := range reqs {
		if (i == last) != (r.Status == 200) || (i != last && r.Status != 0) {
			t.Fatalf("requests %+v", reqs)
		}
	}
	if len(reqs) < 3 || reqs[last-1].Path != wire.PathExport {
		t.Fatalf("requests %+v", reqs)
	}
	h.srv.DropNext(0) // no-op
	wantStatus(t, h.get(m, "sk_a"), 200)
}

func TestDropNextTLS(t *testing.T) {
	h := newHarness(t, sikkerkeytest.WithTLS())
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")
	wantStatus(t, h.get(m, "sk_a"), 200)
	h.srv.DropNext(1)
	if resp, err := h.hc.Do(h.signed(m, http.MethodGet, "/v1/secret/sk_a", nil)); err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want a dropped connection", resp.StatusCode)
	}
	wantStatus(t, h.get(m, "sk_a"), 200)
}

func TestLatencyAndDelay(t *testing.T) {
	h := newHarness(t, sikkerkeytest.WithLatency(60*time.Millisecond))
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")

	took := func() time.Duration {
		start := time.Now()
		wantStatus(t, h.get(m, "sk_a"), 200)
		return time.Since(start)
	}
	if d := took(); d < 60*time.Millisecond {
		t.Fatalf("with latency: %v", d)
	}
	h.srv.SetLatency(0)
	h.srv.DelayNext(80 * time.Millisecond)
	if d := took(); d < 80*time.Millisecond {
		t.Fatalf("with DelayNext: %v", d)
	}
	if d := took(); d > 2*time.Second {
		t.Fatalf("delay applied twice: %v", d)
	}
}

func TestCloseCutsDelays(t *testing.T) {
	srv := sikkerkeytest.NewServer()
	h := &harness{t: t, srv: srv, hc: srv.HTTPClient()}
	m := srv.AddMachine("m")
	srv.DelayNext(time.Hour)
	req := h.signed(m, http.MethodGet, "/v1/secret/sk_a", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := h.hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for len(srv.Requests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	srv.Close()
	srv.Close() // idempotent
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if err := <-errc; err == nil {
		t.Fatal("delayed request got a response after Close")
	}
}

func TestDropNextResend(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")
	h.srv.DropNext(1)
	req := h.signed(m, http.MethodPost, wire.PathExport, nil)
	for range 2 { // the resend of the same signed request is dropped too
		if resp, err := h.hc.Do(req.Clone(req.Context())); err == nil {
			resp.Body.Close()
			t.Fatalf("got status %d, want a dropped connection", resp.StatusCode)
		}
	}
	// The drop count was 1: a fresh request goes through.
	wantStatus(t, h.call(m, http.MethodPost, wire.PathExport, nil), 200)
}
