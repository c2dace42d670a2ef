package sikkerkey

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/source"
)

func TestPrecedenceIsPerSecret(t *testing.T) {
	t.Parallel()
	type Config struct {
		Host string `sikkerkey:"sk_db,field=host"`
		Pass string `sikkerkey:"sk_db,field=password"`
		Key  string `sikkerkey:"sk_key"`
	}
	env := map[string]string{"SK_DB_PASSWORD": "from-env", "SK_KEY": "env-key"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	base := source.Map(map[string]string{"sk_db": `{"host":"h","password":"p"}`, "sk_key": "map-key"})

	var cfg Config
	err := Load(context.Background(), &cfg, WithSources(source.Env(source.EnvLookup(lookup)), base))
	// Env has sk_db (one of its fields is set), so it supplies all of it.
	var le *LoadError
	if !errors.As(err, &le) || len(le.Fields) != 1 || le.Fields[0].Path != "Host" || le.Fields[0].Source != "env" {
		t.Fatalf("want Host missing from env, got %v", err)
	}
	env["SK_DB_HOST"] = "env-host"
	if err := Load(context.Background(), &cfg, WithSources(source.Env(source.EnvLookup(lookup)), base)); err != nil {
		t.Fatal(err)
	}
	if cfg != (Config{Host: "env-host", Pass: "from-env", Key: "env-key"}) {
		t.Errorf("%+v", cfg)
	}
	delete(env, "SK_DB_HOST")
	delete(env, "SK_DB_PASSWORD")
	if err := Load(context.Background(), &cfg, WithSources(source.Env(source.EnvLookup(lookup)), base)); err != nil {
		t.Fatal(err)
	}
	if cfg != (Config{Host: "h", Pass: "p", Key: "env-key"}) {
		t.Errorf("%+v", cfg)
	}
}

var errBackend = errors.New("backend down")

func TestSourceErrorDoesNotFallThrough(t *testing.T) {
	t.Parallel()
	type Config struct {
		A string `sikkerkey:"sk_a"`
		B string `sikkerkey:"sk_b,optional"`
		C string `sikkerkey:"sk_c"`
	}
	failing := source.Func(func(context.Context, []source.Request) (map[string]source.Value, error) {
		return map[string]source.Value{"sk_c": {Raw: "c"}}, errBackend
	})
	next := &recorder{inner: source.Map(map[string]string{"sk_a": "a", "sk_b": "b"})}
	cfg := Config{A: "old"}
	err := Load(context.Background(), &cfg, WithSources(failing, next))
	var le *LoadError
	if !errors.As(err, &le) || len(le.Fields) != 2 || !errors.Is(err, errBackend) {
		t.Fatalf("want A and B failed with errBackend, got %v", err)
	}
	if le.Fields[0].Source != "source 1 (source.Func)" {
		t.Errorf("source name %q", le.Fields[0].Source)
	}
	if len(next.calls) != 0 || cfg.A != "old" {
		t.Errorf("fell through to the next source, or changed cfg: %v %+v", next.calls, cfg)
	}
}

func TestIDErrorsFailOnlyTheirIDs(t *testing.T) {
	t.Parallel()
	type Config struct {
		A string `sikkerkey:"sk_a"`
		B string `sikkerkey:"sk_b"`
		C string `sikkerkey:"sk_c"`
	}
	partial := source.Func(func(_ context.Context, reqs []source.Request) (map[string]source.Value, error) {
		return map[string]source.Value{"sk_a": {Raw: "a"}}, errors.Join(&source.IDError{ID: "sk_b", Err: sdk.ErrAccessDenied})
	})
	next := &recorder{inner: source.Map(map[string]string{"sk_b": "b", "sk_c": "c"})}
	var cfg Config
	err := Load(context.Background(), &cfg, WithSources(partial, next))
	var le *LoadError
	if !errors.As(err, &le) || len(le.Fields) != 1 || le.Fields[0].Path != "B" || !errors.Is(err, sdk.ErrAccessDenied) {
		t.Fatalf("want B denied, got %v", err)
	}
	if got := next.requested(); !slices.Equal(got, []string{"sk_c"}) {
		t.Errorf("next source asked for %v, want only sk_c", got)
	}
}

func TestEachSecretFetchedOnce(t *testing.T) {
	t.Parallel()
	type DB struct{ Host, User string }
	type Config struct {
		A1, A2, A3 string            `sikkerkey:"sk_a"`
		H          string            `sikkerkey:"sk_db,field=host"`
		P          string            `sikkerkey:"sk_db,field=pass,optional"`
		DB         DB                `sikkerkey:"sk_db"`
		M          map[string]string `sikkerkey:"sk_db"`
		Nested     struct {
			Again string `sikkerkey:"sk_a"`
			Other string `sikkerkey:"sk_z,optional"`
		}
	}
	rec := &recorder{inner: source.Map(map[string]string{"sk_a": "a", "sk_db": `{"host":"h","user":"u"}`})}
	var cfg Config
	if err := Load(context.Background(), &cfg, WithSources(rec)); err != nil {
		t.Fatal(err)
	}
	if len(rec.calls) != 1 {
		t.Fatalf("%d lookups, want 1", len(rec.calls))
	}
	var got []string
	for _, r := range rec.calls[0] {
		got = append(got, r.ID+"["+strings.Join(r.Fields, ",")+"]")
	}
	if want := []string{"sk_a[]", "sk_db[host,pass,user]", "sk_z[]"}; !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
	if cfg.A3 != "a" || cfg.Nested.Again != "a" || cfg.DB.User != "u" || cfg.M["host"] != "h" {
		t.Errorf("%+v", cfg)
	}
}

func TestLoadHonoursContext(t *testing.T) {
	t.Parallel()
	var cfg struct {
		A string `sikkerkey:"sk_a"`
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Load(ctx, &cfg, WithSources(source.Map(map[string]string{"sk_a": "a"})))
	if !errors.Is(err, context.Canceled) || cfg.A != "" {
		t.Errorf("err %v, cfg %+v", err, cfg)
	}
}
