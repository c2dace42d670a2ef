package wire

import (
	"encoding/json"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Seed corpora for every target are in testdata/fuzz/<target>/.

// FuzzParseFields: never panics; accepts only JSON objects; an object of
// strings comes back unchanged; errors carry nothing of the input.
func FuzzParseFields(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		fields, err := ParseFields(s)
		if err != nil {
			if err != ErrNotObject {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		trimmed := strings.TrimLeft(s, " \t\r\n")
		if !strings.HasPrefix(trimmed, "{") || !json.Valid([]byte(s)) {
			t.Fatalf("accepted a non-object %q", s)
		}
		var strs map[string]string
		if json.Unmarshal([]byte(s), &strs) == nil && !reflect.DeepEqual(strs, fields) {
			t.Fatalf("object of strings changed: %v -> %v", strs, fields)
		}
		// Round trip: the fields re-encoded as an object of strings parse
		// to themselves.
		again, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseFields(string(again))
		if err != nil || !reflect.DeepEqual(back, fields) {
			t.Fatalf("round trip: %v %v", back, err)
		}
	})
}

// FuzzEnvName: output is a clean upper-case name, and EnvName is idempotent.
func FuzzEnvName(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		n := EnvName(s)
		for _, r := range n {
			if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
				t.Fatalf("EnvName(%q) = %q has %q", s, n, r)
			}
		}
		if strings.Contains(n, "__") || strings.HasPrefix(n, "_") || strings.HasSuffix(n, "_") {
			t.Fatalf("EnvName(%q) = %q", s, n)
		}
		if EnvName(n) != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, EnvName(n))
		}
	})
}

// FuzzSplitFieldNames: never nil for non-null text; plain lists give
// trimmed, non-empty names.
func FuzzSplitFieldNames(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		names := SplitFieldNames(&s)
		if names == nil {
			t.Fatal("nil for non-null text")
		}
		if strings.HasPrefix(strings.TrimSpace(s), "[") {
			return
		}
		for _, n := range names {
			if n == "" || n != strings.TrimSpace(n) || strings.Contains(n, ",") {
				t.Fatalf("SplitFieldNames(%q) gave %q", s, names)
			}
		}
	})
}

// FuzzCheckBaseURL: whatever is accepted is https, or http to a loopback
// name, with no userinfo, query or fragment; and accepting is idempotent.
func FuzzCheckBaseURL(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		out, err := CheckBaseURL(s)
		if err != nil {
			return
		}
		u, perr := url.Parse(out)
		if perr != nil {
			t.Fatalf("accepted %q as unparsable %q", s, out)
		}
		host := u.Hostname()
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" || host == "" ||
			!(u.Scheme == "https" || u.Scheme == "http" && (host == "localhost" || host == "127.0.0.1" || host == "::1")) {
			t.Fatalf("accepted %q as %q", s, out)
		}
		if again, err := CheckBaseURL(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, out, again, err)
		}
	})
}

// FuzzFlatten: any export answer flattens to the same map in any order.
func FuzzFlatten(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		var resp ExportResponse
		if json.Unmarshal(body, &resp) != nil {
			return
		}
		got := Flatten(resp.Secrets)
		rev := slices.Clone(resp.Secrets)
		slices.Reverse(rev)
		if !reflect.DeepEqual(got, Flatten(rev)) {
			t.Fatalf("order-dependent: %v vs %v", got, Flatten(rev))
		}
	})
}
