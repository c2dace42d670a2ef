package sikkerkeytest_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/internal/logbuf"
	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

func TestDefaults(t *testing.T) {
	h := newHarness(t)
	if !regexp.MustCompile(`^vault_[A-Za-z0-9]{10}$`).MatchString(h.srv.VaultID()) {
		t.Fatalf("vault id %q", h.srv.VaultID())
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(h.srv.URL()) {
		t.Fatalf("URL %q", h.srv.URL())
	}
	if h.srv.Certificate() != nil {
		t.Fatal("certificate without TLS")
	}
	if c1, c2 := h.srv.HTTPClient(), h.srv.HTTPClient(); c1 == c2 {
		t.Fatal("HTTPClient returned the same client twice")
	}
	m := h.srv.AddMachine("m")
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(m.ID()) {
		t.Fatalf("machine id %q", m.ID())
	}
	if m.Name() != "m" || len(m.PrivateKey()) != 64 || !m.ExpiresAt().IsZero() {
		t.Fatal("machine accessors")
	}
	if ms := h.srv.Machines(); len(ms) != 1 || ms[0] != m || h.srv.Machine(m.ID()) != m {
		t.Fatal("machine lookup")
	}

	for _, bad := range []string{"", "vault/x", "vault x"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("WithVaultID(%q) did not panic", bad)
				}
			}()
			sikkerkeytest.NewServer(sikkerkeytest.WithVaultID(bad)).Close()
		}()
	}
	for name, f := range map[string]func(){
		"PutSecret":         func() { h.srv.PutSecret("sk/../x", "x", "", "v") },
		"PutFields":         func() { h.srv.PutFields("", "x", "", nil) },
		"AddMachineWithKey": func() { h.srv.AddMachineWithKey("x", make([]byte, 32)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("%s with invalid input did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestTLS(t *testing.T) {
	h := newHarness(t, sikkerkeytest.WithTLS())
	if !strings.HasPrefix(h.srv.URL(), "https://127.0.0.1:") || h.srv.IdentityURL() != h.srv.URL() {
		t.Fatalf("URL %q, identity URL %q", h.srv.URL(), h.srv.IdentityURL())
	}
	if h.srv.Certificate() == nil {
		t.Fatal("no certificate")
	}
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")
	wantStatus(t, h.get(m, "sk_a"), http.StatusOK)

	// An ordinary client does not trust the certificate.
	plain := &http.Client{Transport: &http.Transport{}}
	defer plain.CloseIdleConnections()
	if resp, err := plain.Do(h.signed(m, http.MethodGet, "/v1/secret/sk_a", nil)); err == nil {
		resp.Body.Close()
		t.Fatal("untrusted certificate accepted")
	}
	// Both loopback addresses answer.
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		url := strings.Replace(h.srv.URL(), "127.0.0.1", host, 1)
		req, _ := http.NewRequest(http.MethodGet, url+"/v1/secrets", nil)
		signAs(req, m.ID(), m.PrivateKey(), "/v1/secrets", h.unix(), wire.NewNonce(), nil)
		resp, err := h.hc.Do(req)
		if err != nil {
			if host == "[::1]" {
				t.Logf("no IPv6 loopback: %v", err)
				continue
			}
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", host, resp.StatusCode)
		}
	}
}

func TestRequests(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")

	h.get(m, "sk_a")
	bad := h.request(http.MethodGet, "/v1/secret/sk_a?q=1", nil)
	bad.Header.Set(wire.HeaderMachineID, "someone")
	h.do(bad)
	h.call(m, http.MethodPost, wire.PathPoll, `{"watch":[]}`)
	h.srv.FailNext(503)
	h.get(m, "sk_b")

	want := []sikkerkeytest.Request{
		{Method: "GET", Path: "/v1/secret/sk_a", MachineID: m.ID(), Status: 200},
		{Method: "GET", Path: "/v1/secret/sk_a", MachineID: "someone", Status: 401},
		{Method: "POST", Path: "/v1/secrets/poll", MachineID: m.ID(), Status: 200},
		{Method: "GET", Path: "/v1/secret/sk_b", MachineID: m.ID(), Status: 503},
	}
	got := h.srv.Requests()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("requests\n got %+v\nwant %+v", got, want)
	}
	got[0].Status = 999 // a copy
	if h.srv.Requests()[0].Status != 200 {
		t.Fatal("Requests returned shared entries")
	}
	h.srv.ResetRequests()
	if len(h.srv.Requests()) != 0 {
		t.Fatal("ResetRequests kept entries")
	}
}

func TestLogger(t *testing.T) {
	var buf logbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	h := newHarness(t, sikkerkeytest.WithLogger(logger))
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "top-secret-value")
	h.get(m, "sk_a")
	h.call(m, http.MethodPost, wire.PathExport, nil)
	h.srv.Close() // waits for handlers, so every line is written

	out := buf.String()
	if strings.Count(out, "\n") != 2 {
		t.Fatalf("want 2 lines:\n%s", out)
	}
	for _, want := range []string{"method=GET", "path=/v1/secret/sk_a", "machine=" + m.ID(), "status=200", "duration=", "path=/v1/secrets/export"} {
		if !strings.Contains(out, want) {
			t.Fatalf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "top-secret-value") {
		t.Fatalf("log leaks a secret value:\n%s", out)
	}
}

func TestConcurrentUse(t *testing.T) {
	h := newHarness(t)
	h.srv.PutSecret("sk_a", "A", "", "v")
	var wg sync.WaitGroup
	for i := range 8 {
		m := h.srv.AddMachine(fmt.Sprint("m", i))
		reqs := make([]*http.Request, 0, 20)
		for range 10 {
			reqs = append(reqs,
				h.signed(m, http.MethodGet, "/v1/secret/sk_a", nil),
				h.signed(m, http.MethodPost, wire.PathPoll, []byte(`{"watch":["sk_a"]}`)))
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			for _, req := range reqs {
				resp, err := h.hc.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for j := range 10 {
				h.srv.Rotate("sk_a", fmt.Sprint(j))
				h.srv.Revoke(m.ID(), "sk_other")
				_ = h.srv.Requests()
			}
		}()
	}
	wg.Wait()
}
