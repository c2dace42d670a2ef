package adapt_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/adapters/internal/adapt"
	"github.com/sikkerkey-go/sikkerkey/adapters/internal/adapt/adapttest"
	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// newSet returns the set of ids read through client, with DefaultConfig
// changed by edit (which may be nil).
func newSet(t *testing.T, client *sdk.Client, ids []string, edit func(*adapt.Config)) *adapt.SecretSet {
	t.Helper()
	c := adapt.DefaultConfig()
	if edit != nil {
		edit(&c)
	}
	s, err := adapt.NewSecretSet(client, ids, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFetchShape(t *testing.T) {
	f := adapttest.NewFixture(t)
	f.Srv.PutSecret("sk_spaced", "Spaced", "", "  {\"n\": 1, \"ok\": true, \"nil\": null, \"obj\": {\"a\": [1, 2]}}")
	s := newSet(t, f.Client, []string{"sk_db_prod", "sk_api_key", "sk_list", "sk_spaced"}, func(c *adapt.Config) {
		c.Rename("sk_db_prod", "database")
		c.Rename("sk_api_key", "api.key")
	})
	got, err := s.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"database": map[string]any{"host": "db.internal", "port": "5432", "password": "hunter2-db", "timeout": "5s"},
		"api":      map[string]any{"key": "k-123-secret"},
		"sk_list":  `["a","b"]`,
		"sk_spaced": map[string]any{
			"n": "1", "ok": "true", "nil": "", "obj": `{"a":[1,2]}`,
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Fetch() =\n%#v\nwant\n%#v", got, want)
	}
}

func TestFetchWithDelim(t *testing.T) {
	f := adapttest.NewFixture(t)
	s := newSet(t, f.Client, []string{"sk_api_key"}, func(c *adapt.Config) {
		c.Delim = "/"
		c.Rename("sk_api_key", "api/key.v1")
	})
	got, err := s.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"api": map[string]any{"key.v1": "k-123-secret"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Fetch() = %#v, want %#v", got, want)
	}
}

func TestFetchIsOneBatchFetch(t *testing.T) {
	f := adapttest.NewFixture(t)
	s := newSet(t, f.Client, []string{"sk_db_prod", "sk_api_key", "sk_list"}, nil)
	f.Srv.ResetRequests()
	if _, err := s.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Srv.Requests()); n != 1 {
		t.Fatalf("Fetch of 3 secrets made %d requests, want 1 export", n)
	}
	if _, exports, _ := f.Count(); exports != 1 {
		t.Fatalf("Fetch of 3 secrets made %d exports, want 1", exports)
	}

	// One or two secrets are read in parallel, without an export.
	s2 := newSet(t, f.Client, []string{"sk_db_prod", "sk_api_key"}, nil)
	f.Srv.ResetRequests()
	if _, err := s2.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if gets, exports, _ := f.Count(); gets != 2 || exports != 0 {
		t.Fatalf("Fetch of 2 secrets made %d reads and %d exports, want 2 and 0", gets, exports)
	}
}

func TestFetchMissingSecret(t *testing.T) {
	f := adapttest.NewFixture(t)
	for _, ids := range [][]string{
		{"sk_missing"},
		{"sk_db_prod", "sk_missing"},
		{"sk_db_prod", "sk_api_key", "sk_missing", "sk_gone"},
	} {
		m, err := newSet(t, f.Client, ids, nil).Fetch(context.Background())
		if err == nil {
			t.Fatalf("%v: Fetch() = %v, want an error", ids, m)
		}
		if !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("%v: error %q does not match sdk.ErrNotFound", ids, err)
		}
		if !strings.Contains(err.Error(), "sk_missing") {
			t.Errorf("%v: error %q does not name sk_missing", ids, err)
		}
		for _, secret := range []string{"hunter2-db", "k-123-secret", "db.internal"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%v: error %q contains a secret value", ids, err)
			}
		}
	}
}

func TestFetchAccessDenied(t *testing.T) {
	f := adapttest.NewFixture(t)
	m, client := f.Machine(t, "other")
	f.Srv.Revoke(m.ID(), "sk_api_key")
	_, err := newSet(t, client, []string{"sk_db_prod", "sk_api_key", "sk_list"}, nil).Fetch(context.Background())
	if !errors.Is(err, sdk.ErrAccessDenied) || !strings.Contains(err.Error(), "sk_api_key") {
		t.Fatalf("Fetch() error = %v, want access denied naming sk_api_key", err)
	}
	if strings.Contains(err.Error(), "not found") {
		t.Fatalf("Fetch() error = %q also reports a missing secret", err)
	}
}

func TestFetchReturnsFreshMaps(t *testing.T) {
	f := adapttest.NewFixture(t)
	s := newSet(t, f.Client, []string{"sk_db_prod", "sk_api_key"}, func(c *adapt.Config) {
		c.Rename("sk_db_prod", "database")
	})
	ctx := context.Background()
	first, err := s.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]any{"host": "db.internal", "port": "5432", "password": "hunter2-db", "timeout": "5s"}

	second, err := s.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Changing what a later Fetch returned must not touch an earlier result.
	second["database"].(map[string]any)["host"] = "changed"
	delete(second, "sk_api_key")
	if !reflect.DeepEqual(first["database"], keep) || first["sk_api_key"] != "k-123-secret" {
		t.Fatalf("an earlier Fetch result changed: %v", first)
	}
	third, err := s.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(third, first) {
		t.Fatalf("Fetch after changing a result = %v, want %v", third, first)
	}
}

func TestFetchTimeout(t *testing.T) {
	f := adapttest.NewFixture(t)
	s := newSet(t, f.Client, []string{"sk_api_key"}, func(c *adapt.Config) { c.Timeout = 50 * time.Millisecond })
	f.Srv.DelayNext(2 * time.Second)
	start := time.Now()
	if _, err := s.Fetch(context.Background()); err == nil {
		t.Fatal("Fetch() succeeded past its timeout")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Fetch() took %v with a 50ms timeout", d)
	}
}

func TestFetchContext(t *testing.T) {
	f := adapttest.NewFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, timeout := range []time.Duration{0, time.Minute} {
		s := newSet(t, f.Client, []string{"sk_api_key"}, func(c *adapt.Config) { c.Timeout = timeout })
		if _, err := s.Fetch(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("timeout %v: Fetch() with a cancelled context: %v, want context.Canceled", timeout, err)
		}
	}
}

func TestNewSecretSetErrors(t *testing.T) {
	f := adapttest.NewFixture(t)
	rename := func(pairs ...string) func(*adapt.Config) {
		return func(c *adapt.Config) {
			for i := 0; i < len(pairs); i += 2 {
				c.Rename(pairs[i], pairs[i+1])
			}
		}
	}
	for name, tc := range map[string]struct {
		client *sdk.Client
		ids    []string
		edit   func(*adapt.Config)
		want   string
	}{
		"option error":    {f.Client, []string{"sk_a"}, func(c *adapt.Config) { c.Errs = append(c.Errs, errors.New("bad option")) }, "bad option"},
		"nil client":      {nil, []string{"sk_a"}, nil, "client is required"},
		"no ids":          {f.Client, nil, nil, "no secret ids"},
		"invalid id":      {f.Client, []string{"sk a"}, nil, `invalid secret id "sk a"`},
		"rename unknown":  {f.Client, []string{"sk_a"}, rename("sk_b", "b"), "not one of the secret ids"},
		"rename twice":    {f.Client, []string{"sk_a"}, rename("sk_a", "a", "sk_a", "b"), "given twice"},
		"empty key":       {f.Client, []string{"sk_a"}, rename("sk_a", ""), "must be non-empty"},
		"empty key part":  {f.Client, []string{"sk_a"}, rename("sk_a", "a..b"), "no empty part"},
		"same key":        {f.Client, []string{"sk_a", "b"}, rename("sk_a", "b"), `stored under the key "b"`},
		"key inside key":  {f.Client, []string{"sk_a", "sk_b"}, rename("sk_a", "db", "sk_b", "db.replica"), `stored under the key "db"`},
		"negative time":   {f.Client, []string{"sk_a"}, func(c *adapt.Config) { c.Timeout = -1 }, "must not be negative"},
		"empty delimiter": {f.Client, []string{"sk_a"}, func(c *adapt.Config) { c.Delim = "" }, "delimiter"},
	} {
		c := adapt.DefaultConfig()
		if tc.edit != nil {
			tc.edit(&c)
		}
		s, err := adapt.NewSecretSet(tc.client, tc.ids, c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: NewSecretSet() = %v, %v; want an error containing %q", name, s, err, tc.want)
		}
	}
	// Duplicate ids are read once.
	m, err := newSet(t, f.Client, []string{"sk_api_key", "sk_api_key"}, nil).Fetch(context.Background())
	if err != nil || len(m) != 1 {
		t.Fatalf("Fetch() = %v, %v", m, err)
	}
	// A zero Config can take renames.
	var c adapt.Config
	c.Rename("sk_a", "a")
	if c.Renames["sk_a"] != "a" || len(c.Errs) != 0 {
		t.Fatalf("Rename on a zero Config: %+v", c)
	}
}
