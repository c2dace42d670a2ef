package sdk_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

func TestReads(t *testing.T) {
	t.Parallel()
	srv, m, c := newServer(t)
	ctx := context.Background()
	srv.PutSecret("sk_api", "API Key", "prj_a", "key-1")
	srv.PutFields("sk_db", "Database Credentials", "prj_b", map[string]string{"host": "db.internal", "password": "pw"})
	srv.PutSecret("sk_json", "numbers", "prj_b", `{"port":5432,"ssl":true,"x":null}`)
	srv.PutSecret("sk_hidden", "hidden", "prj_a", "h")
	srv.Revoke(m.ID(), "sk_hidden")

	if v, err := c.GetSecret(ctx, "sk_api"); err != nil || v != "key-1" {
		t.Fatalf("GetSecret: %q %v", v, err)
	}
	fields, err := c.GetFields(ctx, "sk_db")
	if err != nil || !reflect.DeepEqual(fields, map[string]string{"host": "db.internal", "password": "pw"}) {
		t.Fatalf("GetFields: %v %v", fields, err)
	}
	if f, err := c.GetFields(ctx, "sk_json"); err != nil || !reflect.DeepEqual(f, map[string]string{"port": "5432", "ssl": "true", "x": ""}) {
		t.Fatalf("GetFields numbers: %v %v", f, err)
	}
	if v, err := c.GetField(ctx, "sk_db", "password"); err != nil || v != "pw" {
		t.Fatalf("GetField: %q %v", v, err)
	}
	_, err = c.GetField(ctx, "sk_db", "user")
	if !errors.Is(err, sdk.ErrFieldNotFound) || !strings.Contains(err.Error(), "host, password") || strings.Contains(err.Error(), "db.internal") {
		t.Fatalf("missing field: %v", err)
	}
	_, err = c.GetFields(ctx, "sk_api")
	if !errors.Is(err, sdk.ErrSecretStructure) || strings.Contains(err.Error(), "key-1") || !strings.Contains(err.Error(), "sk_api") {
		t.Fatalf("plain secret as fields: %v", err)
	}
	if _, err := c.GetSecret(ctx, "sk_missing"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := c.GetSecret(ctx, "sk_hidden"); !errors.Is(err, sdk.ErrAccessDenied) {
		t.Fatalf("revoked: %v", err)
	}

	list, err := c.ListSecrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	want := []sdk.SecretListItem{
		{ID: "sk_api", Name: "API Key", ProjectID: "prj_a"},
		{ID: "sk_db", Name: "Database Credentials", FieldNames: []string{"host", "password"}, ProjectID: "prj_b"},
		{ID: "sk_json", Name: "numbers", ProjectID: "prj_b"},
	}
	if !reflect.DeepEqual(list, want) {
		t.Fatalf("ListSecrets:\n got %+v\nwant %+v", list, want)
	}
	byProject, err := c.ListSecretsByProject(ctx, "prj_b")
	if err != nil || len(byProject) != 2 {
		t.Fatalf("ListSecretsByProject: %+v %v", byProject, err)
	}

	all, err := c.Export(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	wantAll := map[string]string{
		"API_KEY":                       "key-1",
		"DATABASE_CREDENTIALS_HOST":     "db.internal",
		"DATABASE_CREDENTIALS_PASSWORD": "pw",
		"NUMBERS":                       `{"port":5432,"ssl":true,"x":null}`, // fieldNames null: raw
	}
	if !reflect.DeepEqual(all, wantAll) {
		t.Fatalf("Export:\n got %v\nwant %v", all, wantAll)
	}
	onlyA, err := c.Export(ctx, "prj_a")
	if err != nil || !reflect.DeepEqual(onlyA, map[string]string{"API_KEY": "key-1"}) {
		t.Fatalf("Export(prj_a): %v %v", onlyA, err)
	}
	raw, err := c.ExportSecrets(ctx, "prj_b")
	if err != nil || len(raw) != 2 {
		t.Fatalf("ExportSecrets: %+v %v", raw, err)
	}
}

func TestAuthenticationFailures(t *testing.T) {
	t.Parallel()
	srv, m, c := newServer(t, sdk.WithRetryBackoff())
	srv.PutSecret("sk_a", "a", "", "v")
	ctx := context.Background()
	m.Disable()
	if _, err := c.GetSecret(ctx, "sk_a"); !errors.Is(err, sdk.ErrAccessDenied) {
		t.Fatalf("disabled: %v", err)
	}
	m.Enable()
	if _, err := c.GetSecret(ctx, "sk_a"); err != nil {
		t.Fatal(err)
	}
	m.Remove()
	if _, err := c.GetSecret(ctx, "sk_a"); !errors.Is(err, sdk.ErrAuthentication) {
		t.Fatalf("removed: %v", err)
	}
}

func TestClockSkewIsAuthenticationError(t *testing.T) {
	t.Parallel()
	srv, _, c := newServer(t, sdk.WithRetryBackoff())
	srv.PutSecret("sk_a", "a", "", "v")
	srv.SetClock(func() time.Time { return time.Now().Add(10 * time.Minute) })
	_, err := c.GetSecret(context.Background(), "sk_a")
	if !errors.Is(err, sdk.ErrAuthentication) || !strings.Contains(err.Error(), "clock") {
		t.Fatalf("skew: %v", err)
	}
}

func TestBootstrapInMemory(t *testing.T) {
	t.Parallel()
	srv := sikkerkeytest.NewServer()
	defer srv.Close()
	srv.PutSecret("sk_a", "a", "", "enrolled-value")
	token := srv.NewEnrollmentToken()
	ctx := context.Background()
	c, err := sdk.BootstrapInMemory(ctx, srv.VaultID(), token,
		sdk.WithAPIURL(srv.URL()), sdk.WithHTTPClient(srv.HTTPClient()), sdk.WithHostname("worker-1"), sdk.WithMachineName("w1"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.MachineID() == "" || c.VaultID() != srv.VaultID() || c.Identity().PrivateKeyPath != "" {
		t.Fatalf("identity %+v", c.Identity())
	}
	if v, err := c.GetSecret(ctx, "sk_a"); err != nil || v != "enrolled-value" {
		t.Fatalf("read after enrollment: %q %v", v, err)
	}
	// Bad token: an API error, not a client.
	if _, err := sdk.BootstrapInMemory(ctx, srv.VaultID(), "bogus", sdk.WithAPIURL(srv.URL()), sdk.WithHTTPClient(srv.HTTPClient())); err == nil {
		t.Fatal("bogus token enrolled")
	} else if !errors.As(err, new(*sdk.APIError)) {
		t.Fatalf("bogus token: %v", err)
	}
	// Configuration errors make no request.
	for _, args := range [][3]string{{"", "t", srv.URL()}, {"v", "", srv.URL()}, {"v/../x", "t", srv.URL()}, {"v", "t", "http://evil.example"}} {
		if _, err := sdk.BootstrapInMemory(ctx, args[0], args[1], sdk.WithAPIURL(args[2])); !errors.Is(err, sdk.ErrConfiguration) {
			t.Errorf("%v: %v", args, err)
		}
	}
}
