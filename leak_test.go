package sikkerkey

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// echoUnmarshaler fails the way careless decoders do: quoting its input.
type echoUnmarshaler string

func (e *echoUnmarshaler) UnmarshalMapstructure(in any) error {
	return fmt.Errorf("cannot use %v", in)
}

// TestNoSecretInErrors feeds recognisable secret values into every kind of
// decoding failure and checks that no error text, at any depth of the
// error tree and with any fmt verb, contains them.
func TestNoSecretInErrors(t *testing.T) {
	t.Parallel()
	const s = "hunter2SECRET"
	type Member struct {
		N int
	}
	type Color struct{ R uint8 }
	type Config struct {
		Int      int                `sikkerkey:"sk_a"`
		Int8     int8               `sikkerkey:"sk_big"`
		Uint     uint               `sikkerkey:"sk_neg"`
		Uint64   uint64             `sikkerkey:"sk_huge"`
		Float    float64            `sikkerkey:"sk_a"`
		Complex  complex64          `sikkerkey:"sk_a"`
		Bool     bool               `sikkerkey:"sk_a"`
		Dur      time.Duration      `sikkerkey:"sk_a"`
		Time     time.Time          `sikkerkey:"sk_a"`
		PTime    *time.Time         `sikkerkey:"sk_a"`
		URL      url.URL            `sikkerkey:"sk_url"`
		PURL     *url.URL           `sikkerkey:"sk_url"`
		Addr     netip.Addr         `sikkerkey:"sk_a"`
		PAddr    *netip.Addr        `sikkerkey:"sk_a"`
		Prefix   netip.Prefix       `sikkerkey:"sk_a"`
		IP       net.IP             `sikkerkey:"sk_a"`
		Level    level              `sikkerkey:"sk_a"`
		Ints     []int              `sikkerkey:"sk_list"`
		Map      map[string]int     `sikkerkey:"sk_obj"`
		Struct   Member             `sikkerkey:"sk_obj"`
		Field    int                `sikkerkey:"sk_obj,field=n"`
		NotObj   string             `sikkerkey:"sk_a,field=x"`
		NotObjM  map[string]string  `sikkerkey:"sk_a"`
		Echo     echoUnmarshaler    `sikkerkey:"sk_a"`
		Color    Color              `sikkerkey:"sk_a,field=x"`
		Hooked   Color              `sikkerkey:"sk_obj,field=color"`
		Defaults int                `sikkerkey:"sk_absent,default=hunter2SECRET"`
		MapOfMap map[string][]uint8 `sikkerkey:"sk_obj"`
	}
	values := map[string]string{
		"sk_a":    s,
		"sk_big":  "31337", // out of range for int8
		"sk_neg":  "-1",
		"sk_huge": "99999999999999999999999",
		"sk_url":  "http://[" + s,
		"sk_list": "1," + s + ",3",
		"sk_obj":  `{"n":"` + s + `","color":"` + s + `"}`,
	}
	hook := mapstructure.DecodeHookFuncType(func(from, to reflect.Type, data any) (any, error) {
		if to == reflect.TypeFor[Color]() {
			return nil, fmt.Errorf("bad color %q", data)
		}
		return data, nil
	})
	for _, withHook := range []bool{false, true} {
		var cfg Config
		var opts []Option
		if withHook {
			opts = append(opts, WithDecodeHook(hook))
		}
		err := load(&cfg, values, opts...)
		var le *LoadError
		if !errors.As(err, &le) {
			t.Fatalf("want *LoadError, got %v", err)
		}
		if len(le.Fields) < 25 {
			t.Errorf("only %d failing fields:\n%v", len(le.Fields), err)
		}
		checkNoLeak(t, err, s)
		checkNoLeak(t, err, "31337")
		checkNoLeak(t, err, "99999999999999999999999")
		for _, f := range le.Fields {
			if f.Path == "" || f.Secret == "" || f.Err == nil {
				t.Errorf("incomplete field error %#v", f)
			}
		}
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
