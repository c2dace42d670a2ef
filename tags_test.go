package sikkerkey

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/source"
)

func TestParseTag(t *testing.T) {
	t.Parallel()
	ok := []struct {
		in   string
		want tag
	}{
		{"sk_a", tag{id: "sk_a"}},
		{" sk_a ", tag{id: "sk_a"}},
		{"sk_a,field=password", tag{id: "sk_a", field: "password"}},
		{"sk_a, field = password ", tag{id: "sk_a", field: "password"}},
		{"sk_a,optional", tag{id: "sk_a", optional: true}},
		{"sk_a,field=x,optional", tag{id: "sk_a", field: "x", optional: true}},
		{"sk_a,default=5s", tag{id: "sk_a", hasDefault: true, def: "5s"}},
		{"sk_a,default=", tag{id: "sk_a", hasDefault: true, def: ""}},
		{"sk_a,field=hosts,default=a,b, c", tag{id: "sk_a", field: "hosts", hasDefault: true, def: "a,b, c"}},
		{"sk_a,default=x=y,optional", tag{id: "sk_a", hasDefault: true, def: "x=y,optional"}},
		{"A-b_9", tag{id: "A-b_9"}},
	}
	for _, c := range ok {
		got, err := parseTag(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseTag(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := map[string]string{
		"":                        "no secret id",
		",field=x":                "no secret id",
		"sk a":                    "characters other than",
		"sk/../a":                 "characters other than",
		"sk_a,required":           `unknown option "required"`,
		"sk_a,Optional":           `unknown option "Optional"`,
		"sk_a,optional,optional":  "given twice",
		"sk_a,field=a,field=b":    "given twice",
		"sk_a,field=":             "needs a field name",
		"sk_a,field":              `unknown option "field"`,
		"sk_a,optional=yes":       `unknown option "optional"`,
		"sk_a,,optional":          "stray comma",
		"sk_a,optional,default=1": "optional and default= together",
		"sk_a,defualt=hunter2":    `unknown option "defualt"`,
	}
	for in, want := range bad {
		_, err := parseTag(in)
		if err == nil || !errors.Is(err, ErrBadTag) || !strings.Contains(err.Error(), want) {
			t.Errorf("parseTag(%q) = %v; want ErrBadTag containing %q", in, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parseTag(%q) echoes the option value: %v", in, err)
		}
	}
}

func TestBadTagsAreAllReported(t *testing.T) {
	t.Parallel()
	type Inner struct {
		X string `sikkerkey:"sk_x,bogus"`
	}
	type Config struct {
		OK       string             `sikkerkey:"sk_ok"`
		NoID     string             `sikkerkey:""`
		BadID    string             `sikkerkey:"sk$1"`
		Both     string             `sikkerkey:"sk_b,optional,default=1"`
		private  string             `sikkerkey:"sk_p"`
		Chan     chan int           `sikkerkey:"sk_c"`
		Iface    any                `sikkerkey:"sk_i"`
		DefMap   map[string]string  `sikkerkey:"sk_m,default=x"`
		DefStrct struct{ A string } `sikkerkey:"sk_s,default=x"`
		Nested   Inner
		Skipped  chan int `sikkerkey:"-"`
	}
	cfg := Config{OK: "before"}
	err := Load(context.Background(), &cfg, WithSources(source.Map(map[string]string{"sk_ok": "v"})))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("want *LoadError, got %v", err)
	}
	var paths []string
	for _, f := range le.Fields {
		if !errors.Is(f, ErrBadTag) {
			t.Errorf("%s: %v is not ErrBadTag", f.Path, f)
		}
		paths = append(paths, f.Path)
	}
	want := "NoID BadID Both private Chan Iface DefMap DefStrct Nested.X"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("failing fields %q, want %q", got, want)
	}
	if cfg.OK != "before" || cfg.private != "" {
		t.Errorf("cfg changed despite the error: %+v", cfg)
	}
	if !strings.Contains(err.Error(), "Nested.X") || !strings.Contains(err.Error(), "9 fields failed") {
		t.Errorf("message: %v", err)
	}
}

func TestSnakeAndNormalize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Password": "password", "DBHost": "db_host", "APIKey": "api_key", "HTTPPort": "http_port",
		"MaxConns2": "max_conns2", "A": "a", "userID": "user_id", "TLSCert": "tls_cert",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
		if normalizeName(in) != normalizeName(want) {
			t.Errorf("normalizeName(%q) != normalizeName(%q)", in, want)
		}
	}
}

func TestPlanIsCachedAndCollectsRequests(t *testing.T) {
	t.Parallel()
	type DB struct {
		Host     string
		Port     *int
		Password Secret
		Ignored  string `sikkerkey:"-"`
	}
	type Config struct {
		A   string            `sikkerkey:"sk_b,field=user"`
		DB  DB                `sikkerkey:"sk_b"`
		M   map[string]string `sikkerkey:"sk_m"`
		Raw string            `sikkerkey:"sk_a"`
	}
	p := planFor(typeOf[Config]())
	if p != planFor(typeOf[Config]()) {
		t.Error("plan not cached")
	}
	got := ""
	for _, r := range p.reqs {
		got += r.ID + "[" + strings.Join(r.Fields, ",") + "] "
	}
	if want := "sk_a[] sk_b[host,password,port,user] sk_m[] "; got != want {
		t.Errorf("requests %q, want %q", got, want)
	}
}
