package sikkerkeytest_test

import (
	"bytes"
	"crypto/ed25519"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// Signing vector A (§10.1, §10.2).
const (
	vectorTime  = 1711468800
	vectorNonce = "AAAAAAAAAAAAAAAAAAAAAA=="
	vectorSig   = "BeHBcEK5bIQGmCcxhd+GlfIRfQGJTUt1p+Z15AxQ/8hsLsbrxitNUcVHEFibza3Tjc/KhnoDSqNDJz6fIQC4Bg=="
)

func vectorKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
}

func TestSigningVectorA(t *testing.T) {
	h := newClockHarness(t, vectorTime)
	m := h.srv.AddMachineWithKey("vector", vectorKey())
	h.srv.PutSecret("sk_abc", "Vector", "", "vector-value")

	send := func() result {
		req := h.request(http.MethodGet, "/v1/secret/sk_abc", nil)
		// The machine id is not signed, so the vector's signature holds
		// for any machine with the vector key.
		req.Header.Set("X-Machine-Id", m.ID())
		req.Header.Set("X-Timestamp", "1711468800")
		req.Header.Set("X-Nonce", vectorNonce)
		req.Header.Set("X-Signature", vectorSig)
		return h.do(req)
	}
	res := send()
	wantStatus(t, res, http.StatusOK)
	wantKeys(t, res.obj, "value")
	if res.obj["value"] != "vector-value" {
		t.Fatalf("value %v", res.obj["value"])
	}
	wantStatus(t, send(), http.StatusUnauthorized) // same nonce again
}

func TestHeadersAreCaseInsensitive(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")
	req := h.signed(m, http.MethodGet, "/v1/secret/sk_a", nil)
	for _, name := range []string{wire.HeaderMachineID, wire.HeaderTimestamp, wire.HeaderNonce, wire.HeaderSignature} {
		v := req.Header.Get(name)
		req.Header.Del(name)
		req.Header[strings.ToLower(name)] = []string{v} // sent as is, not canonicalised
	}
	wantStatus(t, h.do(req), http.StatusOK)
}

func TestNonceReplay(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	other := h.srv.AddMachine("other")
	h.srv.PutSecret("sk_a", "A", "", "v")

	nonce := wire.NewNonce()
	sendAs := func(mm interface {
		ID() string
		PrivateKey() ed25519.PrivateKey
	}) result {
		req := h.request(http.MethodGet, "/v1/secret/sk_a", nil)
		signAs(req, mm.ID(), mm.PrivateKey(), "/v1/secret/sk_a", h.unix(), nonce, nil)
		return h.do(req)
	}
	wantStatus(t, sendAs(m), http.StatusOK)
	wantStatus(t, sendAs(m), http.StatusUnauthorized)
	// Nonces are per machine.
	wantStatus(t, sendAs(other), http.StatusOK)
	// A 32-hex-character nonce (as the MCP server sends) is accepted too.
	req := h.request(http.MethodGet, "/v1/secret/sk_a", nil)
	signAs(req, m.ID(), m.PrivateKey(), "/v1/secret/sk_a", h.unix(), "0123456789abcdef0123456789abcdef", nil)
	wantStatus(t, h.do(req), http.StatusOK)
}

func TestTimestampWindow(t *testing.T) {
	const now = 1_800_000_000
	h := newClockHarness(t, now)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")

	at := func(ts string) result {
		req := h.request(http.MethodGet, "/v1/secret/sk_a", nil)
		n, _ := strconv.ParseInt(ts, 10, 64)
		signAs(req, m.ID(), m.PrivateKey(), "/v1/secret/sk_a", n, wire.NewNonce(), nil)
		req.Header.Set(wire.HeaderTimestamp, ts) // may differ from what was signed
		return h.do(req)
	}
	for _, ts := range []int64{now - 300, now + 300, now} {
		wantStatus(t, at(strconv.FormatInt(ts, 10)), http.StatusOK)
	}
	for _, ts := range []int64{now - 301, now + 301, now * 1000} {
		wantStatus(t, at(strconv.FormatInt(ts, 10)), http.StatusUnauthorized)
	}
	for _, ts := range []string{"+1800000000", " 1800000000", "1800000000.0", "0x6B49D200", "-1", "1800000000000000000", ""} {
		wantStatus(t, at(ts), http.StatusUnauthorized)
	}

	// Sub-second parts of the server clock do not matter: seconds are
	// compared whole.
	h.clock.Add(999 * time.Millisecond)
	wantStatus(t, at(strconv.FormatInt(now-300, 10)), http.StatusOK)

	// SetClock moves the window.
	h.srv.SetClock(func() time.Time { return time.Unix(now+10_000, 0) })
	wantStatus(t, at(strconv.FormatInt(now, 10)), http.StatusUnauthorized)
	wantStatus(t, at(strconv.FormatInt(now+10_000, 10)), http.StatusOK)
}

func TestSignatureCoversRawBodyPathAndMethod(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "p1", "v")

	// Python-style spacing must verify as sent (never re-serialised).
	spaced := []byte(`{"projectId": "p1"}`)
	wantStatus(t, h.call(m, http.MethodPost, wire.PathSecretsList, spaced), http.StatusOK)

	// Body changed after signing.
	req := h.request(http.MethodPost, wire.PathSecretsList, []byte(`{"projectId":"p2"}`))
	signAs(req, m.ID(), m.PrivateKey(), wire.PathSecretsList, h.unix(), wire.NewNonce(), []byte(`{"projectId":"p1"}`))
	wantStatus(t, h.do(req), http.StatusUnauthorized)

	// Signed for another path.
	req = h.request(http.MethodGet, "/v1/secret/sk_a", nil)
	signAs(req, m.ID(), m.PrivateKey(), "/v1/secret/sk_b", h.unix(), wire.NewNonce(), nil)
	wantStatus(t, h.do(req), http.StatusUnauthorized)

	// Signed for another method.
	req = h.request(http.MethodPost, wire.PathExport, nil)
	signAs(req, m.ID(), m.PrivateKey(), wire.PathExport, h.unix(), wire.NewNonce(), nil)
	req.Header.Set(wire.HeaderSignature, wire.Sign(m.PrivateKey(), http.MethodGet, wire.PathExport, h.unix(), req.Header.Get(wire.HeaderNonce), nil))
	wantStatus(t, h.do(req), http.StatusUnauthorized)

	// Signed by another key.
	req = h.request(http.MethodGet, "/v1/secret/sk_a", nil)
	signAs(req, m.ID(), vectorKey(), "/v1/secret/sk_a", h.unix(), wire.NewNonce(), nil)
	wantStatus(t, h.do(req), http.StatusUnauthorized)

	// Garbage signature.
	req = h.signed(m, http.MethodGet, "/v1/secret/sk_a", nil)
	req.Header.Set(wire.HeaderSignature, "not base64!")
	wantStatus(t, h.do(req), http.StatusUnauthorized)
}

func TestQueryStringRejected(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")
	for _, signedPath := range []string{"/v1/secret/sk_a", "/v1/secret/sk_a?x=1"} {
		req := h.request(http.MethodGet, "/v1/secret/sk_a?x=1", nil)
		signAs(req, m.ID(), m.PrivateKey(), signedPath, h.unix(), wire.NewNonce(), nil)
		wantStatus(t, h.do(req), http.StatusUnauthorized)
	}
	req := h.request(http.MethodGet, "/v1/secret/sk_a?", nil)
	signAs(req, m.ID(), m.PrivateKey(), "/v1/secret/sk_a", h.unix(), wire.NewNonce(), nil)
	wantStatus(t, h.do(req), http.StatusUnauthorized)
}

func TestMissingAndRepeatedHeaders(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")
	for _, name := range []string{wire.HeaderMachineID, wire.HeaderTimestamp, wire.HeaderNonce, wire.HeaderSignature} {
		req := h.signed(m, http.MethodGet, "/v1/secret/sk_a", nil)
		req.Header.Del(name)
		wantStatus(t, h.do(req), http.StatusUnauthorized)

		req = h.signed(m, http.MethodGet, "/v1/secret/sk_a", nil)
		req.Header.Add(name, req.Header.Get(name))
		wantStatus(t, h.do(req), http.StatusUnauthorized)
	}
}

func TestMachineStates(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")

	m.Disable()
	for _, res := range []result{
		h.get(m, "sk_a"),
		h.call(m, http.MethodGet, wire.PathSecrets, nil),
		h.call(m, http.MethodPost, wire.PathPoll, `{"watch":["sk_a"]}`),
	} {
		wantStatus(t, res, http.StatusForbidden)
	}
	// A disabled machine with a bad signature is still 401.
	req := h.signed(m, http.MethodGet, "/v1/secret/sk_a", nil)
	req.Header.Set(wire.HeaderSignature, wire.Sign(vectorKey(), "GET", "/v1/secret/sk_a", h.unix(), req.Header.Get(wire.HeaderNonce), nil))
	wantStatus(t, h.do(req), http.StatusUnauthorized)

	m.Enable()
	wantStatus(t, h.get(m, "sk_a"), http.StatusOK)

	m.Remove()
	wantStatus(t, h.get(m, "sk_a"), http.StatusUnauthorized)
	if h.srv.Machine(m.ID()) != nil {
		t.Fatal("removed machine still listed")
	}

	req = h.request(http.MethodGet, "/v1/secret/sk_a", nil)
	signAs(req, "00000000-0000-4000-8000-000000000000", vectorKey(), "/v1/secret/sk_a", h.unix(), wire.NewNonce(), nil)
	wantStatus(t, h.do(req), http.StatusUnauthorized)
}
