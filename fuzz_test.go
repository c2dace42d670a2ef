package sikkerkey

import (
	"fmt"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// FuzzParseTag checks that any tag parses or fails cleanly, and that a
// parsed tag is consistent.
func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"sk_a", "sk_a,field=x,optional", "sk_a,default=a,b", ",", "sk_a,,", "sk_a,field= ", "sk a,default=\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := parseTag(s)
		if err != nil {
			return
		}
		if tg.id == "" || strings.ContainsAny(tg.id, ", ") || (tg.optional && tg.hasDefault) || strings.Contains(tg.field, ",") {
			t.Errorf("parseTag(%q) = %+v", s, tg)
		}
		if tg.hasDefault && !strings.HasSuffix(s, tg.def) {
			t.Errorf("default %q is not the rest of %q", tg.def, s)
		}
	})
}

// FuzzConvertNoLeak decodes arbitrary values into every built-in type and
// checks that no error repeats the value. The value is marked with a
// control character that no message contains.
func FuzzConvertNoLeak(f *testing.F) {
	for _, s := range []string{"1", "-1", "1e400", "1m", "2024-01-01T00:00:00Z", "http://[::1", "10.0.0.1", "a,b", "true", "0x10"} {
		f.Add(s)
	}
	types := []reflect.Type{
		reflect.TypeFor[int8](), reflect.TypeFor[uint64](), reflect.TypeFor[float32](), reflect.TypeFor[complex64](),
		reflect.TypeFor[bool](), reflect.TypeFor[time.Duration](), reflect.TypeFor[time.Time](), reflect.TypeFor[url.URL](),
		reflect.TypeFor[*netip.Addr](), reflect.TypeFor[netip.Prefix](), reflect.TypeFor[[]int](), reflect.TypeFor[level](),
		reflect.TypeFor[echoUnmarshaler](),
	}
	plain, hooked := newConverter(nil), newConverter([]mapstructure.DecodeHookFunc{func(from, to reflect.Type, data any) (any, error) { return data, nil }})
	f.Fuzz(func(t *testing.T, s string) {
		s = "\x01" + s
		for _, typ := range types {
			for _, c := range []*converter{plain, hooked} {
				if _, err := c.convert(s, typ); err != nil && strings.Contains(err.Error(), "\x01") {
					t.Fatalf("%s: error repeats the value: %q", typ, err)
				}
			}
		}
	})
}

// echoUnmarshaler fails the way careless decoders do: quoting its input.
type echoUnmarshaler string

func (e *echoUnmarshaler) UnmarshalMapstructure(in any) error {
	return fmt.Errorf("cannot use %v", in)
}
