package wire

import (
	"crypto/ed25519"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

func vectorKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	seed, _ := hex.DecodeString(strings.Repeat("01", 32))
	key := ed25519.NewKeyFromSeed(seed)
	if got := hex.EncodeToString(key.Public().(ed25519.PublicKey)); got != "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c" {
		t.Fatalf("public key of seed 0x01: %s", got)
	}
	return key
}

// Signing vector A (protocol §10.2).
func TestSigningVectorA(t *testing.T) {
	t.Parallel()
	key := vectorKey(t)
	const nonce = "AAAAAAAAAAAAAAAAAAAAAA=="
	payload := string(Payload("GET", "/v1/secret/sk_abc", 1711468800, nonce, nil))
	if want := "GET:/v1/secret/sk_abc:1711468800:AAAAAAAAAAAAAAAAAAAAAA==:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; payload != want {
		t.Fatalf("payload\n got %s\nwant %s", payload, want)
	}
	sig := Sign(key, "GET", "/v1/secret/sk_abc", 1711468800, nonce, nil)
	if want := "BeHBcEK5bIQGmCcxhd+GlfIRfQGJTUt1p+Z15AxQ/8hsLsbrxitNUcVHEFibza3Tjc/KhnoDSqNDJz6fIQC4Bg=="; sig != want {
		t.Fatalf("signature\n got %s\nwant %s", sig, want)
	}
	pub := key.Public().(ed25519.PublicKey)
	if !Verify(pub, "GET", "/v1/secret/sk_abc", 1711468800, nonce, nil, sig) {
		t.Fatal("Verify rejected vector A")
	}
	if Verify(pub, "GET", "/v1/secret/sk_abd", 1711468800, nonce, nil, sig) {
		t.Fatal("Verify accepted another path")
	}
	if Verify(pub, "GET", "/v1/secret/sk_abc", 1711468800, nonce, []byte("x"), sig) {
		t.Fatal("Verify accepted another body")
	}
	if Verify(pub, "GET", "/v1/secret/sk_abc", 1711468800, nonce, nil, "!!!") {
		t.Fatal("Verify accepted garbage")
	}
}

func TestNewNonce(t *testing.T) {
	t.Parallel()
	a, b := NewNonce(), NewNonce()
	if len(a) != 24 || a == b {
		t.Fatalf("nonces %q %q", a, b)
	}
}

func TestValidSecretID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"sk_abc", "SK-1_x", "a"} {
		if !ValidSecretID(id) {
			t.Errorf("%q rejected", id)
		}
	}
	for _, id := range []string{"", "a/b", "..", "a?b", "a%2f", "a b", "é", "a.b", "a\x00"} {
		if ValidSecretID(id) {
			t.Errorf("%q accepted", id)
		}
	}
}

func TestCheckBaseURL(t *testing.T) {
	t.Parallel()
	ok := map[string]string{
		"https://api.sikkerkey.com":     "https://api.sikkerkey.com",
		"https://api.sikkerkey.com/":    "https://api.sikkerkey.com",
		"HTTPS://api.sikkerkey.com//":   "https://api.sikkerkey.com",
		"http://localhost:8080":         "http://localhost:8080",
		"http://localhost":              "http://localhost",
		"http://127.0.0.1:9/":           "http://127.0.0.1:9",
		"http://[::1]:1234":             "http://[::1]:1234",
		"https://example.com/prefix/":   "https://example.com/prefix",
		" https://api.sikkerkey.com \n": "https://api.sikkerkey.com",
	}
	for in, want := range ok {
		got, err := CheckBaseURL(in)
		if err != nil || got != want {
			t.Errorf("CheckBaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"http://localhost.evil.example", "http://localhostfoo", "http://localhost@evil.example",
		"https://user:pw@api.sikkerkey.com", "http://api.sikkerkey.com", "ftp://localhost",
		"https://", "/v1", "localhost:8080", "https://x.com/?a=b", "https://x.com/#f", "http://10.0.0.1",
		"://bad", "",
	} {
		if _, err := CheckBaseURL(in); err == nil {
			t.Errorf("CheckBaseURL(%q) accepted", in)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("error echoes userinfo: %v", err)
		}
	}
}

func TestParseFields(t *testing.T) {
	t.Parallel()
	got, err := ParseFields(` {"port":5432,"ssl":true,"x":null,"n":{"a": 1},"f":1.0,"s":"v\u00e9","arr":[1, 2]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"port": "5432", "ssl": "true", "x": "", "n": `{"a":1}`, "f": "1.0", "s": "vé", "arr": "[1,2]"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	for _, bad := range []string{"", "null", "[1]", `"s"`, "5", "{", `{"a":1}x`, "plain text"} {
		if _, err := ParseFields(bad); err != ErrNotObject {
			t.Errorf("ParseFields(%q) err = %v", bad, err)
		}
	}
	if m, err := ParseFields("{}"); err != nil || len(m) != 0 || m == nil {
		t.Errorf("{} gave %v, %v", m, err)
	}
}

func TestSplitFieldNames(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	cases := []struct {
		in   *string
		want []string
	}{
		{nil, nil},
		{s(""), []string{}},
		{s("host,pass"), []string{"host", "pass"}},
		{s(" host , ,pass "), []string{"host", "pass"}},
		{s(`["a","b"]`), []string{"a", "b"}},
		{s(" []"), []string{}},
		{s("[broken"), []string{}},
	}
	for _, c := range cases {
		got := SplitFieldNames(c.in)
		if !reflect.DeepEqual(got, c.want) || (c.want != nil && got == nil) {
			t.Errorf("SplitFieldNames(%v) = %#v want %#v", c.in, got, c.want)
		}
	}
}

// The Go SDK column of protocol §7's name table.
func TestEnvName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Database Credentials": "DATABASE_CREDENTIALS",
		"api-key":              "API_KEY",
		"a--b":                 "A_B",
		"__x__":                "X",
		" lead trail ":         "LEAD_TRAIL",
		"straße":               "STRA_E",
		"ıd":                   "ID",
		"ﬁle":                  "LE",
		"Ünïcödé":              "N_C_D",
		"Ǆ":                    "",
		"":                     "",
		"sk_db_prod":           "SK_DB_PROD",
	} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q want %q", in, got, want)
		}
	}
}

func TestFlatten(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	items := []ExportItem{
		{ID: "sk_2", Name: "db", Value: `{"host":"h2","user":"u"}`, FieldNames: s("host,user")},
		{ID: "sk_1", Name: "DB", Value: `{"host":"h1"}`, FieldNames: s("host")},
		{ID: "sk_3", Name: "db host", Value: "raw3"},
		{ID: "sk_4", Name: "plain", Value: `{"looks":"structured"}`},        // fieldNames null: raw
		{ID: "sk_5", Name: "broken", Value: "not json", FieldNames: s("a")}, // not an object: raw
		{ID: "sk_6", Name: "empty", Value: "{}", FieldNames: s("")},         // empty object: raw
		{ID: "sk_7", Name: "f", Value: `{"":"x"}`, FieldNames: s("")},
	}
	want := map[string]string{
		"DB_HOST": "h1", // sk_1 sorts before sk_2 and sk_3
		"DB_USER": "u",
		"PLAIN":   `{"looks":"structured"}`,
		"BROKEN":  "not json",
		"EMPTY":   "{}",
		"F_":      "x",
	}
	got := Flatten(items)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	// Order independence.
	for i := 0; i < len(items); i++ {
		rot := append(append([]ExportItem{}, items[i:]...), items[:i]...)
		if g := Flatten(rot); !reflect.DeepEqual(g, want) {
			t.Fatalf("rotation %d: %v", i, g)
		}
	}
}
