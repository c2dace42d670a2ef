package sikkerkey

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/source"
)

type port uint16

type level int

func (l *level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "low":
		*l = 1
	case "high":
		*l = 2
	default:
		return fmt.Errorf("unknown level %q", b) // echoes its input, like most
	}
	return nil
}

// load is Load from a map source.
func load[T any](cfg *T, values map[string]string, opts ...Option) error {
	return Load(context.Background(), cfg, append([]Option{WithSources(source.Map(values))}, opts...)...)
}

func TestDecodeTypes(t *testing.T) {
	t.Parallel()
	type Config struct {
		S    string        `sikkerkey:"sk_s"`
		Sec  Secret        `sikkerkey:"sk_s"`
		B    bool          `sikkerkey:"sk_b"`
		I    int           `sikkerkey:"sk_i"`
		I8   int8          `sikkerkey:"sk_i8"`
		I16  int16         `sikkerkey:"sk_i16"`
		I32  int32         `sikkerkey:"sk_i32"`
		I64  int64         `sikkerkey:"sk_i64"`
		U    uint          `sikkerkey:"sk_u"`
		U8   uint8         `sikkerkey:"sk_u8"`
		U16  uint16        `sikkerkey:"sk_u16"`
		U32  uint32        `sikkerkey:"sk_u32"`
		U64  uint64        `sikkerkey:"sk_u64"`
		F32  float32       `sikkerkey:"sk_f32"`
		F64  float64       `sikkerkey:"sk_f64"`
		C    complex128    `sikkerkey:"sk_c"`
		D    time.Duration `sikkerkey:"sk_d"`
		T    time.Time     `sikkerkey:"sk_t"`
		Raw  []byte        `sikkerkey:"sk_raw"`
		L    []string      `sikkerkey:"sk_l"`
		Ints []int         `sikkerkey:"sk_ints"`
		Secs []Secret      `sikkerkey:"sk_l"`
		None []string      `sikkerkey:"sk_empty"`
		URL  url.URL       `sikkerkey:"sk_url"`
		PURL *url.URL      `sikkerkey:"sk_url"`
		Addr netip.Addr    `sikkerkey:"sk_addr"`
		PA   *netip.Addr   `sikkerkey:"sk_addr"`
		IP   net.IP        `sikkerkey:"sk_addr"`
		Lvl  level         `sikkerkey:"sk_lvl"`
		PLvl *level        `sikkerkey:"sk_lvl"`
		Port port          `sikkerkey:"sk_port"`
		PI   *int          `sikkerkey:"sk_i"`
		PNil *int          `sikkerkey:"sk_absent,optional"`
		PS   *Secret       `sikkerkey:"sk_s"`
	}
	var cfg Config
	err := load(&cfg, map[string]string{
		"sk_s": "hello", "sk_b": "true", "sk_i": "-42", "sk_i8": "-128", "sk_i16": "32767",
		"sk_i32": "7", "sk_i64": "9223372036854775807", "sk_u": "42", "sk_u8": "255",
		"sk_u16": "65535", "sk_u32": "1", "sk_u64": "18446744073709551615", "sk_f32": "1.5",
		"sk_f64": " 2.25 ", "sk_c": "1+2i", "sk_d": "1m30s", "sk_t": "2024-05-01T10:00:00Z",
		"sk_raw": "\x00bytes\n", "sk_l": "a, b ,c", "sk_ints": "1,2,3", "sk_empty": " ",
		"sk_url": "https://user@example.com:8443/p?q=1", "sk_addr": "10.0.0.1",
		"sk_lvl": "high", "sk_port": "5432",
	})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://user@example.com:8443/p?q=1")
	addr := netip.MustParseAddr("10.0.0.1")
	lvl := level(2)
	i := -42
	sec := Secret("hello")
	want := Config{
		S: "hello", Sec: "hello", B: true, I: -42, I8: -128, I16: 32767, I32: 7, I64: math.MaxInt64,
		U: 42, U8: 255, U16: 65535, U32: 1, U64: math.MaxUint64, F32: 1.5, F64: 2.25, C: 1 + 2i,
		D: 90 * time.Second, T: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), Raw: []byte("\x00bytes\n"),
		L: []string{"a", "b", "c"}, Ints: []int{1, 2, 3}, Secs: []Secret{"a", "b", "c"}, None: []string{},
		URL: *u, PURL: u, Addr: addr, PA: &addr, IP: net.ParseIP("10.0.0.1"), Lvl: 2, PLvl: &lvl,
		Port: 5432, PI: &i, PS: &sec,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %#v\nwant %#v", cfg, want)
	}
}

func TestDecodeNestedEmbeddedPointers(t *testing.T) {
	t.Parallel()
	type Common struct {
		Region string `sikkerkey:"sk_region"`
	}
	type Opt struct {
		Token string `sikkerkey:"sk_opt,optional"`
	}
	type Config struct {
		Common
		*Opt
		unexportedEmbed
		Server struct {
			Port int `sikkerkey:"sk_server,field=port"`
			TLS  *struct {
				Cert string `sikkerkey:"sk_server,field=cert"`
			}
		}
		Unset *struct {
			X string `sikkerkey:"sk_unset,optional"`
		}
		Untagged string
	}
	cfg := Config{Untagged: "kept"}
	err := load(&cfg, map[string]string{
		"sk_region": "eu", "sk_zone": "z1", "sk_server": `{"port": 8443, "cert": "PEM"}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Zone != "z1" || cfg.Region != "eu" || cfg.Server.Port != 8443 || cfg.Server.TLS == nil || cfg.Server.TLS.Cert != "PEM" {
		t.Errorf("got %+v", cfg)
	}
	if cfg.Opt != nil || cfg.Unset != nil {
		t.Errorf("pointers allocated although nothing was set: %+v %+v", cfg.Opt, cfg.Unset)
	}
	if cfg.Untagged != "kept" {
		t.Errorf("untagged field changed")
	}
}

type unexportedEmbed struct {
	Zone string `sikkerkey:"sk_zone"`
}

func TestDecodeWholeSecret(t *testing.T) {
	t.Parallel()
	type Base struct {
		User string
	}
	type DB struct {
		Base
		Host     string
		Port     int
		Password Secret
		MaxConns *int
		Pool     *int
		Local    string `sikkerkey:"-"`
		DSN      string `sikkerkey:"sk_dsn"`
	}
	type Config struct {
		DB    DB                `sikkerkey:"sk_db"`
		PDB   *DB               `sikkerkey:"sk_db"`
		Extra map[string]string `sikkerkey:"sk_db"`
		Secs  map[string]Secret `sikkerkey:"sk_db"`
		Opt   *DB               `sikkerkey:"sk_none,optional"`
		OptM  map[string]string `sikkerkey:"sk_none,optional"`
	}
	var cfg Config
	err := load(&cfg, map[string]string{
		"sk_db":  `{"host":"db","PORT":5432,"password":"pw","max-conns":"10","user":"app"}`,
		"sk_dsn": "dsn",
	})
	if err != nil {
		t.Fatal(err)
	}
	ten := 10
	want := DB{Base: Base{User: "app"}, Host: "db", Port: 5432, Password: "pw", MaxConns: &ten, DSN: "dsn"}
	if !reflect.DeepEqual(cfg.DB, want) || !reflect.DeepEqual(*cfg.PDB, want) {
		t.Errorf("DB = %+v / %+v, want %+v", cfg.DB, cfg.PDB, want)
	}
	if len(cfg.Extra) != 5 || cfg.Extra["PORT"] != "5432" || cfg.Secs["password"].Reveal() != "pw" {
		t.Errorf("maps: %v %v", cfg.Extra, cfg.Secs)
	}
	// Opt is absent, but its tagged field DSN reads another secret.
	if cfg.Opt == nil || cfg.Opt.Host != "" || cfg.Opt.DSN != "dsn" || cfg.OptM != nil {
		t.Errorf("optional absent targets: %+v %v", cfg.Opt, cfg.OptM)
	}

	// A missing struct field is reported with the Go path and the hint.
	var cfg2 Config
	err = load(&cfg2, map[string]string{"sk_db": `{"host":"db"}`, "sk_dsn": "d"})
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatal(err)
	}
	var got []string
	for _, f := range le.Fields {
		got = append(got, f.Path+"/"+f.Field)
		if !errors.Is(f, ErrMissing) || !errors.Is(f, sdk.ErrFieldNotFound) {
			t.Errorf("%v: not ErrMissing+ErrFieldNotFound", f)
		}
	}
	if w := "DB.Base.User/user DB.Port/port DB.Password/password PDB.Base.User/user PDB.Port/port PDB.Password/password"; strings.Join(got, " ") != w {
		t.Errorf("missing: %v\nwant %v", got, w)
	}
	if !strings.Contains(err.Error(), "it has host") {
		t.Errorf("message should list the fields that exist: %v", err)
	}
}

func TestDecodeFieldsErrors(t *testing.T) {
	t.Parallel()
	type Config struct {
		A string            `sikkerkey:"sk_plain,field=x"`
		M map[string]string `sikkerkey:"sk_plain"`
		B string            `sikkerkey:"sk_obj,field=nope"`
		C string            `sikkerkey:"sk_obj,field=nope,default=d"`
		D string            `sikkerkey:"sk_obj,field=nope,optional"`
		E string            `sikkerkey:"sk_obj,field=Key"`
	}
	cfg := Config{D: "kept"}
	err := load(&cfg, map[string]string{"sk_plain": "not json", "sk_obj": `{"key":"v"}`})
	var le *LoadError
	if !errors.As(err, &le) || len(le.Fields) != 3 {
		t.Fatalf("want 3 field errors, got %v", err)
	}
	if !errors.Is(le.Fields[0], sdk.ErrSecretStructure) || !errors.Is(le.Fields[1], sdk.ErrSecretStructure) {
		t.Errorf("not structured: %v", err)
	}
	if !errors.Is(le.Fields[2], sdk.ErrFieldNotFound) || le.Fields[2].Field != "nope" {
		t.Errorf("missing field: %v", le.Fields[2])
	}
	if cfg.D != "kept" {
		t.Error("cfg changed")
	}
	cfg = Config{}
	err = load(&cfg, map[string]string{"sk_plain": `{"x":"1"}`, "sk_obj": `{"key":"v","nope":"n"}`})
	if err != nil || cfg.A != "1" || cfg.B != "n" || cfg.C != "n" || cfg.E != "v" {
		t.Errorf("%v %+v", err, cfg)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	type Config struct {
		Timeout time.Duration `sikkerkey:"sk_t,field=timeout,default=5s"`
		Hosts   []string      `sikkerkey:"sk_h,default=a,b,c"`
		Bad     int           `sikkerkey:"sk_x,default=five"`
		Opt     string        `sikkerkey:"sk_o,optional"`
	}
	cfg := Config{Opt: "kept"}
	err := load(&cfg, map[string]string{})
	var le *LoadError
	if !errors.As(err, &le) || len(le.Fields) != 1 || le.Fields[0].Path != "Bad" || le.Fields[0].Source != "default= of the tag" {
		t.Fatalf("want one error for Bad, got %v", err)
	}
	type Good struct {
		Timeout time.Duration `sikkerkey:"sk_t,field=timeout,default=5s"`
		Hosts   []string      `sikkerkey:"sk_h,default=a,b,c"`
		Opt     string        `sikkerkey:"sk_o,optional"`
	}
	g := Good{Opt: "kept"}
	if err := load(&g, map[string]string{"sk_t": `{"other":"1"}`}); err != nil {
		t.Fatal(err)
	}
	if g.Timeout != 5*time.Second || strings.Join(g.Hosts, "|") != "a|b|c" || g.Opt != "kept" {
		t.Errorf("%+v", g)
	}
}

func TestDecodeHook(t *testing.T) {
	t.Parallel()
	type Color struct{ R, G, B uint8 }
	hook := func(from, to reflect.Type, data any) (any, error) {
		if from.Kind() != reflect.String || to != reflect.TypeFor[Color]() {
			return data, nil
		}
		s := data.(string)
		if len(s) != 7 || s[0] != '#' {
			return nil, fmt.Errorf("bad color %q", s)
		}
		n, err := strconv.ParseUint(s[1:], 16, 32)
		return Color{uint8(n >> 16), uint8(n >> 8), uint8(n)}, err
	}
	var order []string
	first := func(from, to reflect.Type, data any) (any, error) {
		order = append(order, "first")
		return data, nil
	}
	type Config struct {
		Color Color         `sikkerkey:"sk_theme,field=color"`
		Port  int           `sikkerkey:"sk_port"`
		D     time.Duration `sikkerkey:"sk_d"`
		L     []string      `sikkerkey:"sk_l"`
	}
	var cfg Config
	err := load(&cfg, map[string]string{"sk_theme": `{"color":"#ff8000"}`, "sk_port": "80", "sk_d": "1s", "sk_l": "x,y"},
		WithDecodeHook(mapstructure.DecodeHookFuncType(first)), WithDecodeHook(mapstructure.DecodeHookFuncType(hook)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Color != (Color{255, 128, 0}) || cfg.Port != 80 || cfg.D != time.Second || len(cfg.L) != 2 || len(order) == 0 {
		t.Errorf("%+v %v", cfg, order)
	}
	err = load(&cfg, map[string]string{"sk_theme": `{"color":"hunter2"}`, "sk_port": "x-hunter2", "sk_d": "1s", "sk_l": ""},
		WithDecodeHook(mapstructure.DecodeHookFuncType(hook)))
	if err == nil || strings.Contains(err.Error(), "hunter2") || !errors.Is(err, ErrDecode) {
		t.Errorf("hook error: %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cfg := validated{Port: 1}
	err := load(&cfg, map[string]string{"sk_port": "0"})
	if !errors.Is(err, errPortZero) || cfg.Port != 1 {
		t.Fatalf("err %v, cfg %+v", err, cfg)
	}
	if err := load(&cfg, map[string]string{"sk_port": "8080"}); err != nil || cfg.Port != 8080 {
		t.Fatalf("err %v, cfg %+v", err, cfg)
	}
}

var errPortZero = errors.New("port must not be 0")

type validated struct {
	Port int `sikkerkey:"sk_port"`
}

func (v *validated) Validate() error {
	if v.Port == 0 {
		return errPortZero
	}
	return nil
}

func TestConfigUnchangedOnError(t *testing.T) {
	t.Parallel()
	type Inner struct {
		A string `sikkerkey:"sk_a"`
		B int    `sikkerkey:"sk_b"`
	}
	type Config struct {
		P *Inner
		M map[string]string `sikkerkey:"sk_m"`
		S *string           `sikkerkey:"sk_a"`
	}
	orig := "orig"
	inner := &Inner{A: "orig", B: 1}
	m := map[string]string{"k": "orig"}
	cfg := Config{P: inner, M: m, S: &orig}
	err := load(&cfg, map[string]string{"sk_a": "new", "sk_b": "NaN", "sk_m": `{"k":"new"}`})
	if err == nil {
		t.Fatal("want error")
	}
	if cfg.P != inner || *inner != (Inner{A: "orig", B: 1}) || m["k"] != "orig" || cfg.S != &orig || orig != "orig" {
		t.Errorf("cfg or what it points to changed: %+v %+v %v %s", cfg, *inner, m, orig)
	}
	// On success, the caller's pointees are still not written to: new ones are made.
	if err := load(&cfg, map[string]string{"sk_a": "new", "sk_b": "2", "sk_m": `{"k":"new"}`}); err != nil {
		t.Fatal(err)
	}
	if cfg.P == inner || cfg.P.A != "new" || inner.A != "orig" || m["k"] != "orig" || *cfg.S != "new" || orig != "orig" {
		t.Errorf("after success: %+v %+v %v", cfg, *inner, m)
	}
}

func TestLoadArguments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var cfg struct {
		A string `sikkerkey:"sk_a"`
	}
	m := source.Map(map[string]string{"sk_a": "x"})
	cases := map[string]error{
		"nil cfg":        Load[struct{}](ctx, nil),
		"not a struct":   Load(ctx, new(int), WithSources(m)),
		"sources+client": Load(ctx, &cfg, WithSources(m), WithClient(&sdk.Client{})),
		"sources+vault":  Load(ctx, &cfg, WithSources(m), WithVault("vault_x")),
		"vault+client":   Load(ctx, &cfg, WithVault("vault_x"), WithClient(&sdk.Client{})),
		"empty sources":  Load(ctx, &cfg, WithSources()),
		"nil source":     Load(ctx, &cfg, WithSources(nil)),
		"nil client":     Load(ctx, &cfg, WithClient(nil)),
		"nil hook":       Load(ctx, &cfg, WithSources(m), WithDecodeHook(nil)),
		"bad interval":   Load(ctx, &cfg, WithSources(m), WithPollInterval(0)),
		"no identity":    Load(ctx, &cfg, WithVault("/nonexistent/identity.json")),
	}
	for name, err := range cases {
		if !errors.Is(err, sdk.ErrConfiguration) {
			t.Errorf("%s: %v, want sdk.ErrConfiguration", name, err)
		}
	}
	// A config without tags needs no identity at all.
	var none struct{ A string }
	if err := Load(ctx, &none, WithVault("/nonexistent/identity.json")); err != nil {
		t.Errorf("no tags: %v", err)
	}
}
