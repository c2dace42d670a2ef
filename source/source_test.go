package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var ctx = context.Background()

func reqs(ids ...string) []Request {
	out := make([]Request, len(ids))
	for i, id := range ids {
		out[i] = Request{ID: id}
	}
	return out
}

func TestMap(t *testing.T) {
	t.Parallel()
	m := map[string]string{"sk_a": "a", "sk_b": `{"x":1}`}
	s := Map(m)
	m["sk_a"] = "changed"
	got, err := s.Lookup(ctx, reqs("sk_a", "sk_b", "sk_c"))
	want := map[string]Value{"sk_a": {Raw: "a"}, "sk_b": {Raw: `{"x":1}`}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v %v", got, err)
	}
	if s.(interface{ String() string }).String() != "map" {
		t.Error("name")
	}
}

func TestFunc(t *testing.T) {
	t.Parallel()
	s := Func(func(_ context.Context, r []Request) (map[string]Value, error) {
		return map[string]Value{r[0].ID: {Raw: "v"}}, nil
	})
	got, _ := s.Lookup(ctx, reqs("sk_a"))
	if got["sk_a"].Raw != "v" {
		t.Error(got)
	}
}

func TestIDError(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	err := error(&IDError{ID: "sk_a", Err: cause})
	if err.Error() != "secret sk_a: boom" || !errors.Is(err, cause) {
		t.Error(err)
	}
	if !(Change{}).Empty() || (Change{Changed: []string{"a"}}).Empty() || (Change{Gone: map[string]error{"a": cause}}).Empty() {
		t.Error("Change.Empty")
	}
}

func TestEnvLookup(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"SK_API_KEY":           "key",
		"SK_EMPTY":             "",
		"APP_SK_PREFIXED":      "p",
		"SK_DB_PROD_PASSWORD":  "pw",
		"SK_DB_PROD_MAX_CONNS": "10",
		"SK_JSON":              `{"a":"b"}`,
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	s := Env(EnvLookup(lookup))
	got, err := s.Lookup(ctx, []Request{
		{ID: "sk_api_key"}, {ID: "sk_empty"}, {ID: "sk_absent", Fields: []string{"x"}},
		{ID: "sk_db_prod", Fields: []string{"host", "max_conns", "password"}}, {ID: "sk_json", Fields: []string{"a"}},
		{ID: "sk_prefixed"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Value{
		"sk_api_key": {Raw: "key"},
		"sk_empty":   {Raw: ""},
		"sk_db_prod": {Raw: `{"max_conns":"10","password":"pw"}`, Fields: map[string]string{"password": "pw", "max_conns": "10"}},
		"sk_json":    {Raw: `{"a":"b"}`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	p := Env(EnvPrefix("APP_"), EnvLookup(lookup))
	got, _ = p.Lookup(ctx, reqs("sk_prefixed", "sk_api_key"))
	if !reflect.DeepEqual(got, map[string]Value{"sk_prefixed": {Raw: "p"}}) {
		t.Errorf("prefix: %v", got)
	}
	if p.(interface{ String() string }).String() != "env (prefix APP_)" || s.(interface{ String() string }).String() != "env" {
		t.Error("names")
	}
}

// TestEnvProcess reads the real process environment, so it is not parallel.
func TestEnvProcess(t *testing.T) {
	t.Setenv("SK_PROCESS_TEST", "from-process")
	t.Setenv("SK_PROCESS_DB_USER", "u")
	got, err := Env().Lookup(ctx, []Request{{ID: "sk_process_test"}, {ID: "sk-process.db", Fields: []string{"user"}}})
	if err != nil || got["sk_process_test"].Raw != "from-process" || got["sk-process.db"].Fields["user"] != "u" {
		t.Errorf("%v %v", got, err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets.json")
	writeFile(t, path, `{
		"sk_str": "s",
		"sk_obj": {"host": "h", "port": 5432, "ssl": true, "n": null, "nested": {"a": [1, 2]}},
		"sk_num": 42,
		"sk_null": null,
		"sk_arr": [1, "x"]
	}`)
	s := File(path)
	got, err := s.Lookup(ctx, reqs("sk_str", "sk_obj", "sk_num", "sk_null", "sk_arr", "sk_absent"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Value{
		"sk_str": {Raw: "s"},
		"sk_obj": {Raw: `{"host":"h","port":5432,"ssl":true,"n":null,"nested":{"a":[1,2]}}`,
			Fields: map[string]string{"host": "h", "port": "5432", "ssl": "true", "n": "", "nested": `{"a":[1,2]}`}},
		"sk_num": {Raw: "42"},
		"sk_arr": {Raw: `[1,"x"]`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if s.(interface{ String() string }).String() != "file "+path {
		t.Error("name")
	}

	for content, msg := range map[string]string{
		`{"sk_a": "hunter2", `: "syntax error at byte",
		`["hunter2"]`:          "not a JSON object",
		`null`:                 "not a JSON object",
		`hunter2`:              "syntax error",
	} {
		writeFile(t, path, content)
		_, err := s.Lookup(ctx, reqs("sk_a"))
		if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v", content, err)
		}
	}
	_, err = File(filepath.Join(dir, "missing.json")).Lookup(ctx, reqs("sk_a"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: %v", err)
	}
}

func TestDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sk_a"), "value\n")
	writeFile(t, filepath.Join(dir, "sk_crlf"), "value\r\n")
	writeFile(t, filepath.Join(dir, "sk_two"), "value\n\n")
	writeFile(t, filepath.Join(dir, "sk_obj"), `{"user":"u"}`)
	if err := os.Mkdir(filepath.Join(dir, "sk_dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	s := Dir(dir)
	got, err := s.Lookup(ctx, reqs("sk_a", "sk_crlf", "sk_two", "sk_obj", "sk_absent", "sk_dir", "../x"))
	want := map[string]Value{"sk_a": {Raw: "value"}, "sk_crlf": {Raw: "value"}, "sk_two": {Raw: "value\n"}, "sk_obj": {Raw: `{"user":"u"}`}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	var ie *IDError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "sk_dir") || !strings.Contains(err.Error(), "../x") {
		t.Errorf("want IDErrors for sk_dir and ../x, got %v", err)
	}
	if _, err := Dir(filepath.Join(dir, "nope")).Lookup(ctx, reqs("sk_a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing dir: %v", err)
	}
	if _, err := Dir(filepath.Join(dir, "sk_a")).Lookup(ctx, reqs("sk_a")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file as dir: %v", err)
	}
}
