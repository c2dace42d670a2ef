package sikkerkeytest_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

func TestWriteIdentity(t *testing.T) {
	h := newHarness(t, sikkerkeytest.WithVaultID("vault_test123"))
	m := h.srv.AddMachineWithKey("github-actions", vectorKey())
	home := filepath.Join(t.TempDir(), "skhome")
	dir := filepath.Join(home, "vaults", "vault_test123")

	// An existing, too open key file is tightened.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "private.pem"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}

	path, err := m.WriteIdentity(home)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "identity.json") {
		t.Fatalf("path %s", path)
	}
	for p, want := range map[string]os.FileMode{
		home:                              0o700,
		filepath.Join(home, "vaults"):     0o700,
		dir:                               0o700,
		path:                              0o600,
		filepath.Join(dir, "private.pem"): 0o600,
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Fatalf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, obj, "machineId", "machineName", "vaultId", "apiUrl", "privateKeyPath")
	if !strings.HasPrefix(string(raw), "{\n  \"machineId\": ") {
		t.Fatalf("not 2-space indented:\n%s", raw)
	}
	var id wire.IdentityFile
	_ = json.Unmarshal(raw, &id)
	want := wire.IdentityFile{
		MachineID:      m.ID(),
		MachineName:    "github-actions",
		VaultID:        "vault_test123",
		APIURL:         strings.Replace(h.srv.URL(), "127.0.0.1", "localhost", 1),
		PrivateKeyPath: filepath.Join(dir, "private.pem"),
	}
	if id != want || h.srv.IdentityURL() != want.APIURL || !filepath.IsAbs(id.PrivateKeyPath) {
		t.Fatalf("identity %+v, want %+v", id, want)
	}

	pemData, err := os.ReadFile(id.PrivateKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(pemData)
	if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("PEM %q", pemData)
	}
	// §10.1: the 48-byte openssl layout.
	if got := hex.EncodeToString(block.Bytes); got != "302e020100300506032b6570042204200101010101010101010101010101010101010101010101010101010101010101" {
		t.Fatalf("DER %s", got)
	}
	if !strings.Contains(string(pemData), "\nMC4CAQAwBQYDK2VwBCIEIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\n") {
		t.Fatalf("PEM body %q", pemData)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil || !parsed.(ed25519.PrivateKey).Equal(vectorKey()) {
		t.Fatalf("parsed key %v", err)
	}

	// apiUrl works as written: http://localhost:<port>.
	h.srv.PutSecret("sk_a", "A", "", "v")
	req, _ := http.NewRequest(http.MethodGet, id.APIURL+"/v1/secret/sk_a", nil)
	signAs(req, id.MachineID, vectorKey(), "/v1/secret/sk_a", h.unix(), wire.NewNonce(), nil)
	wantStatus(t, h.do(req), http.StatusOK)

	// Writing again works and keeps the modes.
	if _, err := m.WriteIdentity(home); err != nil {
		t.Fatal(err)
	}
}
