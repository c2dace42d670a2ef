package sikkerkey

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	const value = "hunter2"
	s := Secret(value)
	type cfg struct {
		User   string
		Pass   Secret
		PPass  *Secret
		List   []Secret
		ByName map[string]Secret
	}
	c := cfg{User: "u", Pass: s, PPass: &s, List: []Secret{s}, ByName: map[string]Secret{"a": s}}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-8v", "%T %v", "%U", "%t"} {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, c))
	}
	outs = append(outs, s.String(), s.GoString(), fmt.Sprint(s), fmt.Sprintln(c), fmt.Errorf("wrapped: %v", s).Error())
	j, _ := json.Marshal(c)
	txt, _ := s.MarshalText()
	x, _ := xml.Marshal(struct{ P Secret }{s})
	outs = append(outs, string(j), string(txt), string(x))
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("msg", "secret", s, "cfg", c, slog.Any("any", s))
		outs = append(outs, buf.String())
	}
	for _, out := range outs {
		if strings.Contains(out, value) {
			t.Errorf("leaked: %s", out)
		}
	}
	if !strings.Contains(fmt.Sprintf("%+v", c), "Pass:[REDACTED]") || s.Reveal() != value {
		t.Errorf("%+v", c)
	}
}
