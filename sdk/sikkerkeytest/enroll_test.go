package sikkerkeytest_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// vectorPublicB64 is the §10.1 public key as enrollment sends it.
const vectorPublicB64 = "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w="

func (h *harness) enroll(req wire.EnrollRequest) result {
	h.t.Helper()
	body, _ := json.Marshal(req)
	return h.do(h.request(http.MethodPost, wire.EnrollPath(h.srv.VaultID()), body))
}

func TestEnrollment(t *testing.T) {
	const start = 1_800_000_000
	h := newClockHarness(t, start)
	h.srv.PutSecret("sk_a", "A", "", "enrolled-read")
	token := h.srv.NewEnrollmentToken(sikkerkeytest.TokenMachineTTL(time.Hour))

	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	res := h.enroll(wire.EnrollRequest{Token: token, PublicKey: base64.StdEncoding.EncodeToString(pub), Hostname: "host-1"})
	wantStatus(t, res, http.StatusOK)
	wantKeys(t, res.obj, "machineId", "machineName", "vaultId", "expiresAt", "apiUrl")
	var er wire.EnrollResponse
	if err := json.Unmarshal(res.raw, &er); err != nil {
		t.Fatal(err)
	}
	if er.MachineName != "host-1" || er.VaultID != h.srv.VaultID() || er.APIURL != h.srv.URL() || er.ExpiresAt != start+3600 {
		t.Fatalf("response %+v", er)
	}
	m := h.srv.Machine(er.MachineID)
	if m == nil || m.PrivateKey() != nil || !m.PublicKey().Equal(pub) || m.ExpiresAt().Unix() != start+3600 {
		t.Fatalf("enrolled machine %+v", m)
	}
	if _, err := m.WriteIdentity(t.TempDir()); err == nil {
		t.Fatal("WriteIdentity of an enrolled machine succeeded")
	}

	// The client signs with its own key.
	signedGet := func() result {
		req := h.request(http.MethodGet, "/v1/secret/sk_a", nil)
		signAs(req, er.MachineID, key, "/v1/secret/sk_a", h.unix(), wire.NewNonce(), nil)
		return h.do(req)
	}
	wantStatus(t, signedGet(), http.StatusOK)

	// Single use by default.
	pub2, _, _ := ed25519.GenerateKey(rand.Reader)
	wantStatus(t, h.enroll(wire.EnrollRequest{Token: token, PublicKey: base64.StdEncoding.EncodeToString(pub2), Hostname: "h"}), http.StatusUnauthorized)

	// The machine expires.
	h.clock.Add(time.Hour)
	wantStatus(t, signedGet(), http.StatusUnauthorized)
}

func TestEnrollmentTokenPolicy(t *testing.T) {
	h := newClockHarness(t, 1_800_000_000)
	enroll := func(token, name string) result {
		return h.enroll(wire.EnrollRequest{Token: token, PublicKey: vectorPublicB64, Hostname: "host", Name: name})
	}

	multi := h.srv.NewEnrollmentToken(sikkerkeytest.TokenUses(2))
	res := enroll(multi, "worker-1")
	wantStatus(t, res, http.StatusOK)
	if res.obj["machineName"] != "worker-1" {
		t.Fatalf("name %v", res.obj["machineName"])
	}
	wantStatus(t, enroll(multi, ""), http.StatusOK)
	wantStatus(t, enroll(multi, ""), http.StatusUnauthorized)

	unlimited := h.srv.NewEnrollmentToken(sikkerkeytest.TokenUses(0), sikkerkeytest.TokenExpiresIn(time.Minute))
	for range 3 {
		res := enroll(unlimited, "")
		wantStatus(t, res, http.StatusOK)
		if res.obj["expiresAt"] != float64(1_800_000_000+24*3600) {
			t.Fatalf("default expiresAt %v", res.obj["expiresAt"])
		}
	}
	h.clock.Add(time.Minute)
	wantStatus(t, enroll(unlimited, ""), http.StatusUnauthorized)

	wantStatus(t, enroll("skenroll_unknown", ""), http.StatusUnauthorized)
}

func TestEnrollmentBadRequests(t *testing.T) {
	h := newHarness(t)
	token := h.srv.NewEnrollmentToken(sikkerkeytest.TokenUses(0))
	path := wire.EnrollPath(h.srv.VaultID())

	for _, key := range []string{
		"",
		"not base64",
		"iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w",                                    // unpadded
		"iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPbw==",                                   // 31 bytes
		base64.StdEncoding.EncodeToString(make([]byte, 33)),                              // 33 bytes
		base64.URLEncoding.EncodeToString([]byte("\xfb\xff" + string(make([]byte, 30)))), // URL alphabet
	} {
		res := h.enroll(wire.EnrollRequest{Token: token, PublicKey: key, Hostname: "h"})
		wantStatus(t, res, http.StatusBadRequest)
	}
	wantStatus(t, h.enroll(wire.EnrollRequest{PublicKey: vectorPublicB64}), http.StatusBadRequest)
	wantStatus(t, h.do(h.request(http.MethodPost, path, []byte(`{"token":`))), http.StatusBadRequest)
	wantStatus(t, h.do(h.request(http.MethodPost, path, nil)), http.StatusUnsupportedMediaType)

	req := h.request(http.MethodPost, path, []byte(`{}`))
	req.Header.Set("Content-Type", "text/plain")
	wantStatus(t, h.do(req), http.StatusUnsupportedMediaType)

	body, _ := json.Marshal(wire.EnrollRequest{Token: token, PublicKey: vectorPublicB64})
	wantStatus(t, h.do(h.request(http.MethodPost, "/v1/vault_other/enroll/register", body)), http.StatusNotFound)
	wantStatus(t, h.do(h.request(http.MethodPost, path+"?x=1", body)), http.StatusBadRequest)
	wantStatus(t, h.do(h.request(http.MethodPost, path, body)), http.StatusOK)
}
