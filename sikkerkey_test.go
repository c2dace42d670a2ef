package sikkerkey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/source"
)

// TestLoadRequestCount checks that N fields over K distinct secrets make at
// most K secret reads, or a single export.
func TestLoadRequestCount(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	m := srv.AddMachine("app")
	srv.PutFields("sk_db", "db", "", map[string]string{"host": "h", "port": "5432", "password": "pw"})
	srv.PutSecret("sk_key", "key", "", "k")
	srv.PutSecret("sk_a", "a", "", "1")
	srv.PutSecret("sk_b", "b", "", "2")
	srv.PutSecret("sk_unused", "unused", "", "x")

	type Few struct {
		Host, Port string `sikkerkey:"sk_db,field=host"`
		Pass       Secret `sikkerkey:"sk_db,field=password"`
		DB         struct {
			Host     string
			Port     int
			Password Secret
		} `sikkerkey:"sk_db"`
		Key1, Key2 string `sikkerkey:"sk_key"`
	}
	type Many struct {
		Few
		A1, A2 int `sikkerkey:"sk_a"`
		B      int `sikkerkey:"sk_b"`
	}
	c := newClient(t, srv, m)

	var few Few
	if err := Load(context.Background(), &few, WithClient(c)); err != nil {
		t.Fatal(err)
	}
	gets, exports, _ := countRequests(srv)
	if gets != 2 || exports != 0 {
		t.Errorf("7 fields over 2 secrets: %d reads, %d exports; want 2 reads", gets, exports)
	}
	srv.ResetRequests()
	var many Many
	if err := Load(context.Background(), &many, WithClient(c)); err != nil {
		t.Fatal(err)
	}
	gets, exports, _ = countRequests(srv)
	if gets != 0 || exports != 1 {
		t.Errorf("10 fields over 4 secrets: %d reads, %d exports; want one export", gets, exports)
	}
	if many.DB.Port != 5432 || many.Pass.Reveal() != "pw" || many.A2 != 1 || many.B != 2 || many.Key2 != "k" {
		t.Errorf("%+v", many)
	}
}

func TestLoadSikkerKeyErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	m := srv.AddMachine("app")
	for i := range 4 {
		id := fmt.Sprintf("sk_%d", i)
		srv.PutSecret(id, id, "", "v")
	}
	srv.PutSecret("sk_revoked", "r", "", "secret-value")
	srv.Revoke(m.ID(), "sk_revoked")
	// Two ids are read one by one; five go through an export, after which
	// the ids it lacks are read one by one to learn why.
	type Small struct {
		Revoked string `sikkerkey:"sk_revoked"`
		Missing string `sikkerkey:"sk_missing"`
	}
	type Large struct {
		Revoked    string `sikkerkey:"sk_revoked"`
		Missing    string `sikkerkey:"sk_missing"`
		V0, V1, V2 string `sikkerkey:"sk_0"`
		V3         string `sikkerkey:"sk_1"`
		V4         string `sikkerkey:"sk_2"`
		Opt        string `sikkerkey:"sk_missing2,optional"`
	}
	var small Small
	checkRevokedMissing(t, Load(context.Background(), &small, WithClient(newClient(t, srv, m))))
	srv.ResetRequests()
	var large Large
	checkRevokedMissing(t, Load(context.Background(), &large, WithClient(newClient(t, srv, m))))
	if gets, exports, _ := countRequests(srv); gets != 3 || exports != 1 {
		t.Errorf("%d reads and %d exports, want 1 export and 3 reads", gets, exports)
	}
}

func checkRevokedMissing(t *testing.T, err error) {
	t.Helper()
	var le *LoadError
	if !errors.As(err, &le) || len(le.Fields) != 2 {
		t.Fatalf("want 2 failing fields, got %v", err)
	}
	if f := le.Fields[0]; f.Path != "Revoked" || !errors.Is(f, sdk.ErrAccessDenied) || f.Source != "sikkerkey" {
		t.Errorf("revoked: %v", f)
	}
	if f := le.Fields[1]; f.Path != "Missing" || !errors.Is(f, sdk.ErrNotFound) || !errors.Is(f, ErrMissing) {
		t.Errorf("missing: %v", f)
	}
	checkNoLeak(t, err, "secret-value")
}

// TestLoadDefaultClient loads through the identity on disk and closes the
// client it made (goleak checks its connections are gone).
func TestLoadDefaultClient(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	m := srv.AddMachine("app")
	srv.PutSecret("sk_key", "key", "", "k")
	path, err := m.WriteIdentity(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Key Secret `sikkerkey:"sk_key"`
	}
	if err := Load(context.Background(), &cfg, WithVault(path)); err != nil {
		t.Fatal(err)
	}
	if cfg.Key.Reveal() != "k" {
		t.Errorf("%v", cfg.Key.Reveal())
	}
}

// TestSikkerKeyWithEnvOverride chains sources as a deployment would.
func TestSikkerKeyWithEnvOverride(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	m := srv.AddMachine("app")
	srv.PutFields("sk_db", "db", "", map[string]string{"host": "prod", "password": "pw"})
	c := newClient(t, srv, m)
	lookup := func(k string) (string, bool) {
		if k == "SK_DB" {
			return `{"host":"localhost","password":"dev"}`, true
		}
		return "", false
	}
	var cfg struct {
		Host string `sikkerkey:"sk_db,field=host"`
	}
	if err := Load(context.Background(), &cfg, WithSources(source.Env(source.EnvLookup(lookup)), source.SikkerKey(c))); err != nil {
		t.Fatal(err)
	}
	if gets, exports, _ := countRequests(srv); cfg.Host != "localhost" || gets+exports != 0 {
		t.Errorf("host %q, %d requests", cfg.Host, gets+exports)
	}
}

// checkNoLeak fails if any error of the tree mentions secret.
func checkNoLeak(t *testing.T, err error, secret string) {
	t.Helper()
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		for _, text := range []string{e.Error(), fmt.Sprintf("%v", e), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e), fmt.Sprintf("%q", e)} {
			if strings.Contains(text, secret) {
				t.Errorf("error text contains %q: %s", secret, text)
				return
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
}
