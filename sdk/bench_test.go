package sdk_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// BenchmarkSign measures signing one request: payload, SHA-256 of the body,
// Ed25519 and base64, as done once per attempt.
func BenchmarkSign(b *testing.B) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	body := []byte(`{"watch":["sk_a","sk_b","sk_c"]}`)
	b.ReportAllocs()
	for b.Loop() {
		_ = wire.Sign(key, http.MethodPost, "/v1/secrets/poll", 1711468800, wire.NewNonce(), body)
	}
}

// BenchmarkGetSecretTLS measures one GetSecret round trip over TLS on
// loopback against sikkerkeytest, on a warm keep-alive connection: signing,
// the request, the server's verification, and decoding.
func BenchmarkGetSecretTLS(b *testing.B) {
	srv := sikkerkeytest.NewServer(sikkerkeytest.WithTLS())
	defer srv.Close()
	srv.PutSecret("sk_bench", "bench", "", "value-of-a-typical-length-0123456789")
	m := srv.AddMachine("bench")
	c, err := m.Client()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetSecret(ctx, "sk_bench"); err != nil {
			b.Fatal(err)
		}
	}
}
