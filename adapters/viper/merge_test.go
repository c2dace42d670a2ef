package sikkerkeyviper_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/adapters/internal/adapt/adapttest"
	sikkerkeyviper "github.com/sikkerkey-go/sikkerkey/adapters/viper"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/spf13/viper"
)

func TestSnapshotMissingSecret(t *testing.T) {
	f := adapttest.NewFixture(t)
	s, err := sikkerkeyviper.New(f.Client, []string{"sk_db_prod", "sk_api_key", "sk_missing"})
	if err != nil {
		t.Fatal(err)
	}
	v := viper.New()
	err = s.MergeInto(context.Background(), v)
	if !errors.Is(err, sdk.ErrNotFound) || !strings.Contains(err.Error(), "sk_missing") {
		t.Fatalf("MergeInto() error = %v, want not found naming sk_missing", err)
	}
	for _, secret := range []string{"hunter2-db", "k-123-secret"} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error %q contains a secret value", err)
		}
	}
	if len(v.AllKeys()) != 0 {
		t.Fatalf("a failed MergeInto left keys in viper: %v", v.AllKeys())
	}
}

// New's checks are the shared set's (tested in adapters/internal/adapt):
// each option reaches them, and their errors are prefixed.
func TestNewErrors(t *testing.T) {
	f := adapttest.NewFixture(t)
	for name, tc := range map[string]struct {
		client *sdk.Client
		opts   []sikkerkeyviper.Option
		want   string
	}{
		"nil client":     {nil, nil, "client is required"},
		"Rename":         {f.Client, []sikkerkeyviper.Option{sikkerkeyviper.Rename("sk_a", "a"), sikkerkeyviper.Rename("sk_a", "b")}, "given twice"},
		"WithTimeout":    {f.Client, []sikkerkeyviper.Option{sikkerkeyviper.WithTimeout(-1)}, "must not be negative"},
		"WithDelim":      {f.Client, []sikkerkeyviper.Option{sikkerkeyviper.WithDelim("")}, "delimiter"},
		"Rename unknown": {f.Client, []sikkerkeyviper.Option{sikkerkeyviper.Rename("sk_b", "b")}, "not one of the secret ids"},
	} {
		s, err := sikkerkeyviper.New(tc.client, []string{"sk_a"}, tc.opts...)
		if err == nil || !strings.HasPrefix(err.Error(), "sikkerkeyviper: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New() = %v, %v; want an error starting sikkerkeyviper: and containing %q", name, s, err, tc.want)
		}
	}
}

func TestMergeLayers(t *testing.T) {
	f := adapttest.NewFixture(t)
	s, err := sikkerkeyviper.New(f.Client, []string{"sk_db_prod", "sk_api_key"},
		sikkerkeyviper.Rename("sk_db_prod", "database"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_TIMEOUT", "9s")
	v := viper.New()
	v.SetDefault("database.port", 1)   // below the merged value
	v.SetDefault("database.pool", 10)  // not in the snapshot: stays
	v.Set("database.host", "override") // Set beats the config layer
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv() // environment beats the config layer too
	if err := s.MergeInto(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"database.host":     "override",
		"database.port":     "5432",
		"database.pool":     "10",
		"database.password": "hunter2-db",
		"database.timeout":  "9s",
		"sk_api_key":        "k-123-secret",
	} {
		if got := v.GetString(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if !v.InConfig("database.password") || v.InConfig("database.pool") {
		t.Error("merged keys are not in viper's config layer")
	}
}

func TestMergeDoesNotModifyTheCallersMap(t *testing.T) {
	snapshot := map[string]any{
		"Database": map[string]any{
			"Host":  "db.internal",
			"Hosts": []any{map[string]any{"Name": "a"}},
			"Extra": map[any]any{"Key": "v"},
		},
		"API_Key": "k",
	}
	want := map[string]any{
		"Database": map[string]any{
			"Host":  "db.internal",
			"Hosts": []any{map[string]any{"Name": "a"}},
			"Extra": map[any]any{"Key": "v"},
		},
		"API_Key": "k",
	}
	v := viper.New()
	if err := sikkerkeyviper.Merge(v, snapshot); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snapshot, want) {
		t.Fatalf("Merge changed the caller's map:\n%#v", snapshot)
	}
	if got := v.GetString("database.host"); got != "db.internal" {
		t.Fatalf("database.host = %q", got)
	}
	if got := v.GetString("database.extra.key"); got != "v" {
		t.Fatalf("database.extra.key = %q", got)
	}
	// viper keeps no reference to the caller's maps either.
	snapshot["Database"].(map[string]any)["Host"] = "changed"
	if got := v.GetString("database.host"); got != "db.internal" {
		t.Fatalf("changing the caller's map changed viper: database.host = %q", got)
	}

	// The trap Merge avoids: viper's MergeConfigMap lower-cases in place.
	raw := map[string]any{"Key": "v"}
	if err := viper.New().MergeConfigMap(raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["Key"]; ok {
		t.Log("viper's MergeConfigMap no longer changes its argument")
	}
}

func TestMergeRejectsKeysDifferingInCase(t *testing.T) {
	err := sikkerkeyviper.Merge(viper.New(), map[string]any{
		"db": map[string]any{"Host": "secret-a", "host": "secret-b"},
	})
	if err == nil || !strings.Contains(err.Error(), `"Host" and "host" under db`) {
		t.Fatalf("Merge() error = %v, want a case conflict naming the keys", err)
	}
	if strings.Contains(err.Error(), "secret-") {
		t.Fatalf("error %q contains a value", err)
	}
}

func TestMergeEdgeCases(t *testing.T) {
	if err := sikkerkeyviper.Merge(nil, map[string]any{"a": "b"}); err == nil {
		t.Fatal("Merge(nil, ...) succeeded")
	}
	v := viper.New()
	if err := sikkerkeyviper.Merge(v, nil); err != nil || len(v.AllKeys()) != 0 {
		t.Fatalf("Merge(v, nil) = %v, keys %v", err, v.AllKeys())
	}
}

// writeConfig writes a YAML config file and returns its path.
func writeConfig(t *testing.T, dir, text string) string {
	t.Helper()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMergeAndConfigFile shows, against the real viper, how merged secrets
// and a config file share the config layer, and that re-reading the file
// (as WatchConfig does) erases them.
func TestMergeAndConfigFile(t *testing.T) {
	f := adapttest.NewFixture(t)
	s, err := sikkerkeyviper.New(f.Client, []string{"sk_db_prod", "sk_api_key"},
		sikkerkeyviper.Rename("sk_db_prod", "database"),
		sikkerkeyviper.Rename("sk_api_key", "api"))
	if err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, t.TempDir(), "name: billing\ndatabase:\n  pool: 5\n  host: from-file\napi:\n  url: https://example.test\n")
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		t.Fatal(err)
	}
	if err := s.MergeInto(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"name":          "billing",     // file only
		"database.pool": "5",           // file key next to merged ones
		"database.host": "db.internal", // the secret replaces the file's key
		"api.url":       "https://example.test",
		"api":           "",
	} {
		if got := v.GetString(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	// Under "api" the file has a map and the snapshot a string: viper keeps
	// the map and drops the string, as Merge documents.
	if v.IsSet("api.key") || v.GetString("api") == "k-123-secret" {
		t.Error("the string merged over a map is visible")
	}

	// Re-reading the file replaces the config layer: the secrets are gone
	// until merged again.
	if err := v.ReadInConfig(); err != nil {
		t.Fatal(err)
	}
	if got := v.GetString("database.host"); got != "from-file" {
		t.Fatalf("after ReadInConfig database.host = %q, want from-file", got)
	}
	if v.IsSet("database.password") {
		t.Fatal("a merged secret survived ReadInConfig")
	}
	if err := s.MergeInto(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	if got := v.GetString("database.password"); got != "hunter2-db" {
		t.Fatalf("after merging again database.password = %q", got)
	}
}
