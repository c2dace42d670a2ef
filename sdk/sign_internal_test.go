package sdk

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"strings"
	"testing"
)

// The client signs protocol §10.2's vector A exactly.
func TestClientSignsVectorA(t *testing.T) {
	seed, _ := hex.DecodeString(strings.Repeat("01", 32))
	c, err := NewFromKey(Identity{MachineID: "m_test", APIURL: "https://api.sikkerkey.com/"}, ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req, err := c.newRequest(context.Background(), "GET", "/v1/secret/sk_abc", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.sign(req, nil, 1711468800, "AAAAAAAAAAAAAAAAAAAAAA==")
	want := map[string]string{
		"X-Machine-Id": "m_test",
		"X-Timestamp":  "1711468800",
		"X-Nonce":      "AAAAAAAAAAAAAAAAAAAAAA==",
		"X-Signature":  "BeHBcEK5bIQGmCcxhd+GlfIRfQGJTUt1p+Z15AxQ/8hsLsbrxitNUcVHEFibza3Tjc/KhnoDSqNDJz6fIQC4Bg==",
	}
	for h, v := range want {
		if got := req.Header.Get(h); got != v {
			t.Errorf("%s = %q, want %q", h, got, v)
		}
	}
	if req.URL.String() != "https://api.sikkerkey.com/v1/secret/sk_abc" {
		t.Errorf("URL %s", req.URL)
	}
	if req.Header.Get("Content-Type") != "" {
		t.Error("Content-Type on a bodyless request")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := mustTime(t, "Sat, 28 Nov 2026 20:00:00 GMT")
	for in, want := range map[string]string{
		"": "0s", "3": "3s", "0": "0s", "-5": "0s", "abc": "0s",
		"Sat, 28 Nov 2026 20:00:10 GMT": "10s", "Sat, 28 Nov 2026 19:00:00 GMT": "0s",
		"99999999999": "24h0m0s",
	} {
		if got := parseRetryAfter(in, now).String(); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}
