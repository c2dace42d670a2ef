package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/logbuf"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/source"
)

const sampleSecrets = `{
  "sk_api_key": "dev-key-1",
  "sk_db_prod": {"host": "localhost", "port": 5432, "password": "dev-pass-1", "tls": true},
  "sk_list": [1, 2],
  "sk_absent": null
}`

func TestRunServesSecretsAndWritesIdentity(t *testing.T) {
	secrets, home := newSecretsFile(t, sampleSecrets)
	d := startRun(t, home, secrets)
	ctx := context.Background()

	// Files and modes as the bootstrap script makes them.
	dir := filepath.Dir(d.identityPath)
	for p, want := range map[string]os.FileMode{
		home:                              0o700,
		filepath.Join(home, "vaults"):     0o700,
		dir:                               0o700,
		d.identityPath:                    0o600,
		filepath.Join(dir, "private.pem"): 0o600,
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
	var ident map[string]string
	raw, err := os.ReadFile(d.identityPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ident); err != nil {
		t.Fatal(err)
	}
	if ident["apiUrl"] != d.url || ident["vaultId"] != "vault_dev" || ident["machineName"] != machineName {
		t.Fatalf("identity %v", ident)
	}
	if ident["privateKeyPath"] != filepath.Join(dir, "private.pem") {
		t.Fatalf("privateKeyPath %q", ident["privateKeyPath"])
	}

	// The banner says where everything is.
	out := d.stdout.String()
	for _, want := range []string{d.url, secrets, home, "vault_dev", d.identityPath, ident["machineId"], "new)",
		"SIKKERKEY_HOME=" + home + " go run .", "sikkerkey get sk_api_key"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "(3 secrets") {
		t.Errorf("stdout does not count 3 secrets (null is absent):\n%s", out)
	}

	// A client that knows only the identity file reads every secret.
	c := d.client()
	if v, err := c.GetSecret(ctx, "sk_api_key"); err != nil || v != "dev-key-1" {
		t.Fatalf("sk_api_key = %q, %v", v, err)
	}
	fields, err := c.GetFields(ctx, "sk_db_prod")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"host": "localhost", "port": "5432", "password": "dev-pass-1", "tls": "true"}
	if !maps.Equal(fields, want) {
		t.Fatalf("fields %v, want %v", fields, want)
	}
	if v, err := c.GetSecret(ctx, "sk_list"); err != nil || v != "[1,2]" {
		t.Fatalf("sk_list = %q, %v", v, err)
	}
	if _, err := c.GetSecret(ctx, "sk_absent"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("sk_absent: %v, want ErrNotFound", err)
	}
	list, err := c.ListSecrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range list {
		ids = append(ids, it.ID)
		if it.Name != it.ID {
			t.Errorf("secret %s is named %q", it.ID, it.Name)
		}
	}
	if !slices.Equal(ids, []string{"sk_api_key", "sk_db_prod", "sk_list"}) {
		t.Fatalf("list %v", ids)
	}

	if err := d.stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(d.stdout.String(), "sikkerkey-devserver stopped") {
		t.Fatal("no stopped line")
	}
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(d.url, "http://"), time.Second); err == nil {
		_ = conn.Close()
		t.Fatal("still listening after run returned")
	}
}

func TestRunRotatesOnEdit(t *testing.T) {
	secrets, home := newSecretsFile(t, `{"sk_a": "a1", "sk_db": {"password": "p1"}, "sk_gone": "g"}`)
	d := startRun(t, home, secrets)
	c := d.client()
	ctx := context.Background()
	waitValue(t, c, "sk_a", "a1")

	// An in-place write.
	writeSecrets(t, secrets, `{"sk_a": "a2", "sk_db": {"password": "p1"}, "sk_gone": "g"}`)
	waitValue(t, c, "sk_a", "a2")
	d.waitLog(`rotated=sk_a`, 1)

	// An atomic save (rename over the file), rotating a structured secret.
	saveAtomically(t, secrets, `{"sk_a": "a2", "sk_db": {"password": "p2"}, "sk_gone": "g"}`)
	eventually(t, 5*time.Second, "sk_db password p2", func() bool {
		v, err := c.GetField(ctx, "sk_db", "password")
		return err == nil && v == "p2"
	})

	// A removed id is deleted, a new one added.
	saveAtomically(t, secrets, `{"sk_a": "a2", "sk_db": {"password": "p2"}, "sk_new": "n"}`)
	waitValue(t, c, "sk_new", "n")
	if _, err := c.GetSecret(ctx, "sk_gone"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("sk_gone after removal: %v, want ErrNotFound", err)
	}
	d.waitLog(`added=sk_new deleted=sk_gone`, 1)

	// Null removes a secret too; a structured secret can become plain and
	// a plain one structured.
	writeSecrets(t, secrets, `{"sk_a": {"k": "v"}, "sk_db": "plain", "sk_new": null}`)
	waitValue(t, c, "sk_db", "plain")
	if f, err := c.GetFields(ctx, "sk_a"); err != nil || f["k"] != "v" {
		t.Fatalf("sk_a fields %v, %v", f, err)
	}
	if _, err := c.GetFields(ctx, "sk_db"); !errors.Is(err, sdk.ErrSecretStructure) {
		t.Fatalf("sk_db is still structured: %v", err)
	}
	list, err := c.ListSecrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range list {
		if it.ID == "sk_db" && it.FieldNames != nil {
			t.Fatalf("sk_db still has field names %v", it.FieldNames)
		}
		if it.ID == "sk_new" {
			t.Fatal("sk_new (null) is still listed")
		}
	}

	// A save that changes nothing the clients see is no rotation.
	saveAtomically(t, secrets, `{"sk_db": "plain", "sk_a": {"k": "v"}}`)
	d.waitLog("secrets file saved without changes", 1)

	// Polls report each rotation once, as SikkerKey does.
	st, err := c.Poll(ctx, []string{"sk_a", "sk_db"})
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 0 {
		t.Fatalf("first poll after reads reported %v", st)
	}
	writeSecrets(t, secrets, `{"sk_db": "plain2", "sk_a": {"k": "v"}}`)
	d.waitLog(`rotated=sk_db`+"\n", 2) // the first was the p2 rotation
	st, err = c.Poll(ctx, []string{"sk_a", "sk_db"})
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st["sk_db"] != sdk.WatchChanged {
		t.Fatalf("poll after rotation reported %v", st)
	}
}

func TestRunBadFileKeepsSecrets(t *testing.T) {
	secrets, home := newSecretsFile(t, `{"sk_a": "good-value-1"}`)
	d := startRun(t, home, secrets)
	c := d.client()
	ctx := context.Background()
	waitValue(t, c, "sk_a", "good-value-1")

	bad := []struct{ content, log string }{
		{`{"sk_a": "leaked-value-1",`, "not valid JSON (syntax error at byte"},
		{`["leaked-value-2"]`, "not a JSON object mapping secret ids to values"},
		{`{"sk a": "leaked-value-3"}`, `invalid secret id \"sk a\"`},
		{`null`, "not a JSON object mapping secret ids to values"},
	}
	for i, b := range bad {
		saveAtomically(t, secrets, b.content)
		d.waitLog("secrets file not applied; keeping the previous secrets", i+1)
		if !strings.Contains(d.stderr.String(), b.log) {
			t.Fatalf("stderr lacks %q:\n%s", b.log, d.stderr.String())
		}
		if v, err := c.GetSecret(ctx, "sk_a"); err != nil || v != "good-value-1" {
			t.Fatalf("after bad file %d: sk_a = %q, %v", i, v, err)
		}
	}

	// A missing file keeps the secrets too.
	if err := os.Remove(secrets); err != nil {
		t.Fatal(err)
	}
	d.waitLog("secrets file is missing; keeping the previous secrets", 1)
	if v, err := c.GetSecret(ctx, "sk_a"); err != nil || v != "good-value-1" {
		t.Fatalf("after removal: sk_a = %q, %v", v, err)
	}

	// A good file applies again.
	writeSecrets(t, secrets, `{"sk_a": "good-value-2"}`)
	waitValue(t, c, "sk_a", "good-value-2")

	logs := d.stderr.String()
	for _, v := range []string{"leaked-value", "good-value"} {
		if strings.Contains(logs, v) {
			t.Fatalf("a secret value reached the log:\n%s", logs)
		}
	}
}

func TestRunLogsRequestsWithoutValues(t *testing.T) {
	secrets, home := newSecretsFile(t, `{"sk_a": "value-never-logged", "sk_b": {"password": "field-never-logged"}}`)
	d := startRun(t, home, secrets)
	c := d.client()
	ctx := context.Background()
	if _, err := c.GetSecret(ctx, "sk_a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExportSecrets(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSecret(ctx, "sk_missing"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatal(err)
	}
	d.waitLog("path=/v1/secret/sk_missing", 1)
	logs := d.stderr.String()
	for _, want := range []string{
		"method=GET path=/v1/secret/sk_a machine=" + c.MachineID() + " status=200 duration=",
		"method=POST path=/v1/secrets/export",
		"path=/v1/secret/sk_missing machine=" + c.MachineID() + " status=404",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "never-logged") {
		t.Fatalf("a secret value reached the log:\n%s", logs)
	}
}

func TestRunRestartKeepsIdentity(t *testing.T) {
	secrets, home := newSecretsFile(t, `{"sk_a": "v"}`)
	d1 := startRun(t, home, secrets)
	id1, key1 := readIdentity(t, d1.identityPath)
	url1 := d1.url
	if err := d1.stop(); err != nil {
		t.Fatal(err)
	}

	d2 := startRun(t, home, secrets)
	id2, key2 := readIdentity(t, d2.identityPath)
	if id2.MachineID != id1.MachineID || !key2.Equal(key1) {
		t.Fatalf("machine %s became %s (same key: %v)", id1.MachineID, id2.MachineID, key2.Equal(key1))
	}
	if !strings.Contains(d2.stdout.String(), "(machine "+id1.MachineID+", reused)") {
		t.Fatalf("banner does not say reused:\n%s", d2.stdout.String())
	}
	if id2.APIURL != d2.url || (url1 != d2.url && id1.APIURL != url1) {
		t.Fatalf("apiUrl %s, want %s", id2.APIURL, d2.url)
	}
	if v, err := d2.client().GetSecret(context.Background(), "sk_a"); err != nil || v != "v" {
		t.Fatalf("after restart: %q, %v", v, err)
	}
}

func readIdentity(t *testing.T, path string) (sdk.Identity, ed25519.PrivateKey) {
	t.Helper()
	id, key, err := sdk.LoadIdentity(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return id, key
}

func TestRunVaultAndProject(t *testing.T) {
	secrets, home := newSecretsFile(t, `{"sk_a": "v"}`)
	d := startRun(t, home, secrets, "-vault", "myapp", "-project", "prj_dev")
	d.identityPath = filepath.Join(home, "vaults", "vault_myapp", "identity.json")
	c := d.client()
	if c.VaultID() != "vault_myapp" {
		t.Fatalf("vault %q", c.VaultID())
	}
	list, err := c.ListSecretsByProject(context.Background(), "prj_dev")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != "sk_a" || list[0].ProjectID != "prj_dev" {
		t.Fatalf("list %+v", list)
	}
}

func TestRunNotesOtherVaults(t *testing.T) {
	secrets, home := newSecretsFile(t, `{"sk_a": "v"}`)
	other := filepath.Join(home, "vaults", "vault_real")
	if err := os.MkdirAll(other, 0o700); err != nil {
		t.Fatal(err)
	}
	writeIdentityFile(t, other, "https://api.sikkerkey.com")
	d := startRun(t, home, secrets)
	if out := d.stdout.String(); !strings.Contains(out, "also holds vault_real") || !strings.Contains(out, "SIKKERKEY_VAULT=vault_dev") {
		t.Fatalf("no note about the other vault:\n%s", out)
	}
	// The real identity is untouched.
	raw, err := os.ReadFile(filepath.Join(other, "identity.json"))
	if err != nil || !bytes.Contains(raw, []byte("https://api.sikkerkey.com")) {
		t.Fatalf("other identity changed: %s, %v", raw, err)
	}
}

// writeIdentityFile writes an identity.json and private.pem to dir.
func writeIdentityFile(t *testing.T, dir, apiURL string) {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "private.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	ident, _ := json.Marshal(map[string]string{
		"machineId": "11111111-2222-4333-8444-555555555555", "machineName": "prod", "vaultId": filepath.Base(dir),
		"apiUrl": apiURL, "privateKeyPath": filepath.Join(dir, "private.pem"),
	})
	if err := os.WriteFile(filepath.Join(dir, "identity.json"), ident, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRunRefusesToOverwrite(t *testing.T) {
	for name, setup := range map[string]func(t *testing.T, dir string){
		"real identity": func(t *testing.T, dir string) { writeIdentityFile(t, dir, "https://api.sikkerkey.com") },
		"http remote":   func(t *testing.T, dir string) { writeIdentityFile(t, dir, "http://localhost@evil.example") },
		"unreadable identity": func(t *testing.T, dir string) {
			writeSecrets(t, filepath.Join(dir, "identity.json"), "not json")
		},
		"key without identity": func(t *testing.T, dir string) {
			writeSecrets(t, filepath.Join(dir, "private.pem"), "-----BEGIN PRIVATE KEY-----")
		},
	} {
		t.Run(name, func(t *testing.T) {
			secrets, home := newSecretsFile(t, `{"sk_a": "v"}`)
			dir := filepath.Join(home, "vaults", "vault_dev")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			setup(t, dir)
			before := snapshot(t, dir)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-home", home, "-secrets", secrets}, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
				t.Fatalf("run = %v, want a refusal", err)
			}
			if exitCode(err, io.Discard) != 1 {
				t.Fatal("exit code is not 1")
			}
			if after := snapshot(t, dir); !maps.Equal(before, after) {
				t.Fatal("the vault directory changed")
			}
			if stdout.Len() != 0 {
				t.Fatalf("stdout: %s", stdout.String())
			}
		})
	}
}

// snapshot returns the contents of the files of dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(data)
	}
	return out
}

func TestRunReplacesBrokenDevIdentity(t *testing.T) {
	secrets, home := newSecretsFile(t, `{"sk_a": "v"}`)
	dir := filepath.Join(home, "vaults", "vault_dev")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeIdentityFile(t, dir, "http://localhost:1")
	writeSecrets(t, filepath.Join(dir, "private.pem"), "garbage")
	d := startRun(t, home, secrets)
	id, _ := readIdentity(t, d.identityPath)
	if id.MachineID == "11111111-2222-4333-8444-555555555555" {
		t.Fatal("kept a machine id without its key")
	}
	if !strings.Contains(d.stderr.String(), "writing a fresh identity") {
		t.Fatalf("no warning:\n%s", d.stderr.String())
	}
	if v, err := d.client().GetSecret(context.Background(), "sk_a"); err != nil || v != "v" {
		t.Fatalf("%q, %v", v, err)
	}
}

func TestRunReusesDevIdentityOfOtherTool(t *testing.T) {
	// A loopback identity written by something else (a sikkerkeytest test,
	// an older dev server on another port) is a dev identity: reused.
	secrets, home := newSecretsFile(t, `{"sk_a": "v"}`)
	dir := filepath.Join(home, "vaults", "vault_dev")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeIdentityFile(t, dir, "http://127.0.0.1:9")
	_, key := readIdentity(t, filepath.Join(dir, "identity.json"))
	d := startRun(t, home, secrets)
	id, key2 := readIdentity(t, d.identityPath)
	if id.MachineID != "11111111-2222-4333-8444-555555555555" || id.MachineName != "prod" || !key.Equal(key2) || id.APIURL != d.url {
		t.Fatalf("identity %+v", id)
	}
	if v, err := d.client().GetSecret(context.Background(), "sk_a"); err != nil || v != "v" {
		t.Fatalf("%q, %v", v, err)
	}
}

func TestRunCommandLine(t *testing.T) {
	secrets, home := newSecretsFile(t, `{"sk_a": "v"}`)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"help", []string{"-h"}, 0, "Usage: sikkerkey-devserver [flags]"},
		{"help example", []string{"-help"}, 0, "sikkerkey-devserver -secrets secrets.json -home /tmp/skdev"},
		{"unknown flag", []string{"-port", "1"}, 2, "flag provided but not defined: -port"},
		{"argument", []string{"-home", home, secrets}, 2, "unexpected argument"},
		{"bad vault", []string{"-vault", "my/vault"}, 2, `invalid -vault "vault_my/vault"`},
		{"remote addr", []string{"-addr", "0.0.0.0:0"}, 2, "-allow-remote"},
		{"all interfaces", []string{"-addr", ":8787"}, 2, "-allow-remote"},
		{"bad addr", []string{"-addr", "8787"}, 2, "want host:port"},
		{"empty secrets", []string{"-secrets", ""}, 2, "-secrets must name a file"},
		{"empty home", []string{"-home", ""}, 2, "-home must name a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, &stdout, &stderr)
			if code := exitCode(err, &stderr); code != tc.code {
				t.Fatalf("exit code %d, want %d (err %v)", code, tc.code, err)
			}
			if tc.code == 0 && !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("err %v", err)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("stderr lacks %q:\n%s", tc.want, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Fatalf("stdout: %s", stdout.String())
			}
		})
	}
}

func TestParseFlagsAllowRemote(t *testing.T) {
	o, err := parseFlags([]string{"-allow-remote", "-addr", "0.0.0.0:8787", "-vault", "vault_x"}, io.Discard)
	if err != nil || !o.allowRemote || o.addr != "0.0.0.0:8787" || o.vault != "vault_x" {
		t.Fatalf("parseFlags = %+v, %v", o, err)
	}
	o, err = parseFlags(nil, io.Discard)
	if err != nil || o.addr != defaultAddr || o.vault != defaultVault || o.secrets != defaultSecrets || o.home != sdk.Home() || o.project != "" {
		t.Fatalf("defaults %+v, %v", o, err)
	}
}

func TestRunStartupErrors(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	good := filepath.Join(dir, "good.json")
	writeSecrets(t, good, `{"sk_a": "v"}`)

	for _, tc := range []struct {
		name, content string
		args          []string
		want          string
	}{
		{"missing file", "", nil, "does not exist; create it, for example"},
		{"bad json", `{"sk_a": "secret-in-bad-file"`, nil, "not valid JSON"},
		{"bad id", `{"../x": "v"}`, nil, `invalid secret id "../x"`},
		{"port in use", "", []string{"-secrets", good, "-addr", busy.Addr().String()}, "-addr 127.0.0.1:0 for a free port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			if tc.content != "" {
				writeSecrets(t, path, tc.content)
			}
			args := append([]string{"-home", home, "-addr", "127.0.0.1:0", "-secrets", path}, tc.args...)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run = %v, want an error with %q", err, tc.want)
			}
			var report bytes.Buffer
			if exitCode(err, &report) != 1 || !strings.HasPrefix(report.String(), "sikkerkey-devserver: ") {
				t.Fatalf("report %q", report.String())
			}
			if strings.Contains(err.Error(), "secret-in-bad-file") {
				t.Fatal("the error quotes the file")
			}
		})
	}
}

func TestRunStopsWhenContextIsDoneAlready(t *testing.T) {
	secrets, home := newSecretsFile(t, `{"sk_a": "v"}`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr logbuf.Buffer
	if err := run(ctx, []string{"-addr", "127.0.0.1:0", "-home", home, "-secrets", secrets}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "sikkerkey-devserver stopped") {
		t.Fatalf("stdout:\n%s", stdout.String())
	}
}

// TestParseSecrets checks what the dev server serves for each kind of
// member of the secrets file, and that a bad id rejects the file.
func TestParseSecrets(t *testing.T) {
	got, err := parseSecrets([]byte(`{
	  "plain": "v",
	  "empty": "",
	  "num": 42.50,
	  "arr": [1, {"a": null}],
	  "nothing": null,
	  "obj": {"s": "x", "n": 5432, "z": null, "o": {"k": [1, 2]}},
	  "emptyobj": {}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]source.Value{
		"plain": {Raw: "v"},
		"empty": {Raw: ""},
		"num":   {Raw: "42.50"},
		"arr":   {Raw: `[1,{"a":null}]`},
		"obj": {Raw: `{"s":"x","n":5432,"z":null,"o":{"k":[1,2]}}`,
			Fields: map[string]string{"s": "x", "n": "5432", "z": "", "o": `{"k":[1,2]}`}},
		"emptyobj": {Raw: "{}", Fields: map[string]string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	if _, err := parseSecrets([]byte(`{"ok": "1", "bad/id": "LEAK"}`)); err == nil || !strings.Contains(err.Error(), "bad/id") || strings.Contains(err.Error(), "LEAK") {
		t.Fatalf("bad id: %v", err)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.1.2.3": true, "::1": true, "localhost": true, "LOCALHOST": true,
		"": false, "0.0.0.0": false, "::": false, "192.168.1.2": false, "example.com": false, "localhost.example": false,
	} {
		if isLoopbackHost(host) != want {
			t.Errorf("isLoopbackHost(%q) = %v", host, !want)
		}
	}
	for u, want := range map[string]bool{
		"http://localhost:8787": true, "http://127.0.0.1:1": true, "https://[::1]:443": true, "http://localhost": true,
		"https://api.sikkerkey.com": false, "http://localhost@evil.example": false, "http://user@localhost": false,
		"http://localhost.evil.example": false, "ftp://localhost": false, "": false, "localhost:8787": false,
	} {
		if isLoopbackURL(u) != want {
			t.Errorf("isLoopbackURL(%q) = %v", u, !want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/skdev": "/tmp/skdev", "/tmp/my dir": "'/tmp/my dir'", "it's": `'it'\''s'`, "": "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
