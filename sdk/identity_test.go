package sdk_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// writeVault writes an identity the way the bootstrap script does and
// returns the identity.json path.
func writeVault(t *testing.T, home, vault, apiURL string, keyMode os.FileMode) string {
	t.Helper()
	dir := filepath.Join(home, "vaults", vault)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "private.pem")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), keyMode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyPath, keyMode); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(map[string]string{
		"machineId": "m_" + vault, "machineName": "test", "vaultId": vault,
		"apiUrl": apiURL, "privateKeyPath": keyPath,
	})
	p := filepath.Join(dir, "identity.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIdentityResolution(t *testing.T) {
	home := t.TempDir()
	t.Setenv("SIKKERKEY_HOME", home)
	t.Setenv("SIKKERKEY_IDENTITY", "")

	// Nothing on disk: a configuration error that names what was checked.
	_, err := sdk.New("")
	if !errors.Is(err, sdk.ErrConfiguration) || !strings.Contains(err.Error(), filepath.Join(home, "vaults", "*", "identity.json")) ||
		!strings.Contains(err.Error(), "bootstrap") {
		t.Fatalf("empty home: %v", err)
	}

	pA := writeVault(t, home, "vault_a", "https://api.sikkerkey.com", 0o600)

	// A single vault is auto-detected.
	c, err := sdk.New("")
	if err != nil {
		t.Fatal(err)
	}
	if c.MachineID() != "m_vault_a" || c.VaultID() != "vault_a" || c.MachineName() != "test" || c.APIURL() != "https://api.sikkerkey.com" {
		t.Fatalf("identity %+v", c.Identity())
	}
	c.Close()

	// A vault id with and without the prefix.
	for _, v := range []string{"vault_a", "a"} {
		c, err := sdk.New(v)
		if err != nil {
			t.Fatalf("New(%q): %v", v, err)
		}
		c.Close()
	}
	// An explicit path.
	if c, err := sdk.New(pA); err != nil {
		t.Fatal(err)
	} else {
		c.Close()
	}
	// A missing vault names the expected path.
	_, err = sdk.New("nope")
	if !errors.Is(err, sdk.ErrConfiguration) || !strings.Contains(err.Error(), filepath.Join(home, "vaults", "vault_nope", "identity.json")) {
		t.Fatalf("missing vault: %v", err)
	}

	writeVault(t, home, "vault_b", "https://api.sikkerkey.com", 0o600)
	if err := os.MkdirAll(filepath.Join(home, "vaults", "vault_empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	vaults, err := sdk.ListVaults()
	if err != nil || !reflect.DeepEqual(vaults, []string{"vault_a", "vault_b"}) {
		t.Fatalf("ListVaults = %v, %v", vaults, err)
	}
	// Two vaults: auto-detect refuses and lists them.
	_, err = sdk.New("")
	if !errors.Is(err, sdk.ErrConfiguration) || !strings.Contains(err.Error(), "vault_a, vault_b") {
		t.Fatalf("two vaults: %v", err)
	}
	// SIKKERKEY_IDENTITY wins over auto-detection.
	t.Setenv("SIKKERKEY_IDENTITY", pA)
	if c, err := sdk.New(""); err != nil || c.VaultID() != "vault_a" {
		t.Fatalf("SIKKERKEY_IDENTITY: %v", err)
	} else {
		c.Close()
	}
}

func TestListVaultsWithoutDirectory(t *testing.T) {
	t.Setenv("SIKKERKEY_HOME", t.TempDir())
	v, err := sdk.ListVaults()
	if err != nil || v == nil || len(v) != 0 {
		t.Fatalf("ListVaults = %#v, %v", v, err)
	}
}

func TestLoadIdentityErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, rsaLike, _ := func() (any, []byte, error) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		return nil, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}()
	cases := map[string]struct {
		identity string
		key      string
		want     string
	}{
		"not json":        {"{nope", "", "failed to parse identity file"},
		"no machine id":   {`{"apiUrl":"https://x.example"}`, "", "no machineId"},
		"no api url":      {`{"machineId":"m"}`, "", "no apiUrl"},
		"http url":        {`{"machineId":"m","apiUrl":"http://api.example","privateKeyPath":"k.pem"}`, "VALID", "HTTPS"},
		"missing key":     {`{"machineId":"m","apiUrl":"https://x.example","privateKeyPath":"/nonexistent/k.pem"}`, "", "private key not found"},
		"key not pem":     {`{"machineId":"m","apiUrl":"https://x.example","privateKeyPath":"k.pem"}`, "garbage", "not PEM"},
		"key not pkcs8":   {`{"machineId":"m","apiUrl":"https://x.example","privateKeyPath":"k.pem"}`, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "PKCS#8"},
		"key not ed25519": {`{"machineId":"m","apiUrl":"https://x.example","privateKeyPath":"k.pem"}`, string(rsaLike), "not Ed25519"},
	}
	_, good, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(good)
	validPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	for name, c := range cases {
		sub := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.MkdirAll(sub, 0o700); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(sub, "identity.json")
		write(filepath.Join(filepath.Base(sub), "identity.json"), c.identity)
		if c.key != "" {
			k := c.key
			if k == "VALID" {
				k = validPEM
			}
			write(filepath.Join(filepath.Base(sub), "k.pem"), k)
		}
		_, err := sdk.New(p)
		if !errors.Is(err, sdk.ErrConfiguration) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (want %q)", name, err, c.want)
		}
	}
	// The identity file itself missing.
	if _, err := sdk.New(filepath.Join(dir, "missing", "identity.json")); !errors.Is(err, sdk.ErrConfiguration) || !strings.Contains(err.Error(), "identity file not found") {
		t.Errorf("missing identity: %v", err)
	}
}

// The §10.1 key material parses to the published public key, and the error
// for a bad key never contains key bytes.
func TestParsePrivateKeyVector(t *testing.T) {
	t.Parallel()
	pemText := "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\n-----END PRIVATE KEY-----\n"
	key, err := sdk.ParsePrivateKey([]byte(pemText))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(key.Public().(ed25519.PublicKey)); got != "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c" {
		t.Fatalf("public key %s", got)
	}
	bad := strings.Replace(pemText, "K2Vw", "K2Vx", 1) // Ed448 OID: not a key we accept
	_, err = sdk.ParsePrivateKey([]byte(bad))
	if !errors.Is(err, sdk.ErrConfiguration) || strings.Contains(err.Error(), "MC4C") {
		t.Fatalf("bad key: %v", err)
	}
}

func TestKeyPermissionWarning(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	p := writeVault(t, home, "vault_w", "https://api.sikkerkey.com", 0o644)
	var buf bytes.Buffer
	c, err := sdk.New(p, sdk.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.Contains(buf.String(), "readable by group or others") || !strings.Contains(buf.String(), "0644") {
		t.Fatalf("no warning: %q", buf.String())
	}
	buf.Reset()
	p2 := writeVault(t, home, "vault_ok", "https://api.sikkerkey.com", 0o600)
	c2, err := sdk.New(p2, sdk.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if buf.Len() != 0 {
		t.Fatalf("unexpected log: %q", buf.String())
	}
}

func TestNewFromKeyValidation(t *testing.T) {
	t.Parallel()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		id  sdk.Identity
		key ed25519.PrivateKey
	}{
		{sdk.Identity{APIURL: "https://x.example"}, key},
		{sdk.Identity{MachineID: "m", APIURL: "https://x.example"}, key[:10]},
		{sdk.Identity{MachineID: "m", APIURL: "http://localhost@evil.example"}, key},
		{sdk.Identity{MachineID: "m", APIURL: "https://user:hunter2@x.example"}, key},
	}
	for i, c := range cases {
		_, err := sdk.NewFromKey(c.id, c.key)
		if !errors.Is(err, sdk.ErrConfiguration) {
			t.Errorf("case %d: %v", i, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("case %d leaks userinfo: %v", i, err)
		}
	}
	c, err := sdk.NewFromKey(sdk.Identity{MachineID: "m", APIURL: "https://x.example/"}, key)
	if err != nil || c.APIURL() != "https://x.example" {
		t.Fatalf("%v %v", c, err)
	}
	c.Close()
}
