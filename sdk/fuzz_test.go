package sdk

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cannedTransport answers every request with one status and body, without
// a network, so decoders can be fuzzed fast.
type cannedTransport struct {
	status int
	body   []byte
}

func (t cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: t.status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(string(t.body))), Request: r, ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

func cannedClient(t *testing.T, status int, body []byte) *Client {
	t.Helper()
	c, err := NewFromKey(Identity{MachineID: "m", APIURL: "https://api.example"}, testWho.key(),
		WithHTTPClient(&http.Client{Transport: cannedTransport{status, body}}), WithRetryBackoff())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// typed reports whether err is one of the errors a response can produce.
func typed(err error) bool {
	var apiErr *APIError
	return err == nil || errors.As(err, &apiErr) || errors.Is(err, ErrInvalidResponse) ||
		errors.Is(err, ErrSecretStructure) || errors.Is(err, ErrFieldNotFound)
}

// Seed corpora for every target are in testdata/fuzz/<target>/; seeds that
// must be computed are added in code.

// FuzzResponseDecoders feeds arbitrary bodies, with 200 and other
// statuses, to every response decoder: secret, fields, list, export and
// poll. Nothing panics, every error is typed, and a 200 error never quotes
// the body.
func FuzzResponseDecoders(f *testing.F) {
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		code := int(status%500) + 100
		if status%3 == 0 {
			code = 200 // mostly successes: that is where decoding happens
		}
		c := cannedClient(t, code, body)
		defer c.Close()
		ctx := context.Background()
		check := func(what string, err error) {
			if !typed(err) {
				t.Fatalf("%s: untyped error %T %v", what, err, err)
			}
			if err != nil && code == 200 && len(body) > 8 && strings.Contains(err.Error(), string(body)) {
				t.Fatalf("%s: error quotes the body: %v", what, err)
			}
		}
		_, err := c.GetSecret(ctx, "sk_a")
		check("GetSecret", err)
		_, err = c.GetField(ctx, "sk_a", "f")
		check("GetField", err)
		_, err = c.ListSecrets(ctx)
		check("ListSecrets", err)
		_, err = c.ListSecretsByProject(ctx, "p")
		check("ListSecretsByProject", err)
		_, err = c.Export(ctx, "")
		check("Export", err)
		statuses, err := c.Poll(ctx, []string{"sk_a", "sk_b"})
		check("Poll", err)
		for id := range statuses {
			if id != "sk_a" && id != "sk_b" {
				t.Fatalf("Poll reported an id it was not asked about: %q", id)
			}
		}
	})
}

// FuzzEnrollmentResponse: whatever the enrollment endpoint answers, the
// result is a client with a machine id or a typed error.
func FuzzEnrollmentResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		code := int(status%500) + 100
		c, err := BootstrapInMemory(context.Background(), "vault_x", "token",
			WithAPIURL("https://enroll.example"), WithHTTPClient(&http.Client{Transport: cannedTransport{code, body}}))
		if err != nil {
			if !typed(err) && !errors.Is(err, ErrConfiguration) {
				t.Fatalf("untyped error %T %v", err, err)
			}
			return
		}
		defer c.Close()
		if c.MachineID() == "" || code < 200 || code > 299 {
			t.Fatalf("enrolled with status %d: %+v", code, c.Identity())
		}
	})
}

// FuzzParsePrivateKey: never panics; errors are configuration errors;
// anything accepted is an Ed25519 key that signs.
func FuzzParsePrivateKey(f *testing.F) {
	der, _ := x509.MarshalPKCS8PrivateKey(testWho.key())
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ParsePrivateKey(data)
		if err != nil {
			if !errors.Is(err, ErrConfiguration) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(key) != ed25519.PrivateKeySize {
			t.Fatalf("key of %d bytes", len(key))
		}
		sig := ed25519.Sign(key, []byte("x"))
		if !ed25519.Verify(key.Public().(ed25519.PublicKey), []byte("x"), sig) {
			t.Fatal("accepted key does not sign")
		}
	})
}

// FuzzIdentityFile: any identity.json gives a working client or a
// configuration error; an accepted one obeys the HTTPS rule.
func FuzzIdentityFile(f *testing.F) {
	dir := f.TempDir()
	der, _ := x509.MarshalPKCS8PrivateKey(testWho.key())
	if err := os.WriteFile(filepath.Join(dir, "private.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "identity.json")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		// A relative or empty privateKeyPath resolves next to identity.json;
		// link the one valid key there.
		if err := os.Symlink(filepath.Join(dir, "private.pem"), filepath.Join(filepath.Dir(p), "private.pem")); err != nil {
			t.Fatal(err)
		}
		c, err := New(p)
		if err != nil {
			if !errors.Is(err, ErrConfiguration) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		defer c.Close()
		if c.MachineID() == "" || !(strings.HasPrefix(c.APIURL(), "https://") || strings.HasPrefix(c.APIURL(), "http://")) {
			t.Fatalf("accepted %+v", c.Identity())
		}
	})
}

// FuzzCacheEntry: any bytes in a .skc file are a hit only if they decrypt
// under this identity; and every value survives a store and load.
func FuzzCacheEntry(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, value string) {
		sc := goldenWho.secretCache(t, t.TempDir())
		entry, err := sc.decode("sk_golden", data)
		if err == nil && entry.cachedAt.IsZero() {
			t.Fatal("hit without a time")
		}
		now := time.Unix(1784893492, 0)
		if err := sc.store("sk_fuzz", value, now); err != nil {
			t.Fatal(err)
		}
		got, ok := sc.load(context.Background(), nil, "sk_fuzz")
		// Values are JSON strings on disk: invalid UTF-8 comes back as U+FFFD.
		var want string
		b, _ := json.Marshal(value)
		_ = json.Unmarshal(b, &want)
		if !ok || got.value != want || !got.cachedAt.Equal(now) {
			t.Fatalf("round trip: %q -> %+v %v", value, got, ok)
		}
	})
}
