package sdk

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/logbuf"
)

// The published .skc vector (protocol §10.3).
const (
	goldenEnvelope  = `{"v":1,"nonce":"aRft7abMsZ0ggD9K","ct":"lvUT+AOq5lb8U7/cOMnO13yWH+dJJWgyHqIBGriU7VfGT8/4LyG0olAm56U=","cachedAt":1784893492}`
	goldenKeyHex    = "06db0d9945104e3582c73b581b5378a7d1e36e05c3115d153ff6a2f3b3ec8ae9"
	goldenPlaintext = `{"value":"golden-value-123"}`
	goldenCachedAt  = 1784893492
)

// cacheWho is an identity for cache tests: the seed byte repeated 32 times.
type cacheWho struct {
	seed    byte
	vault   string
	machine string
}

var (
	goldenWho = cacheWho{0x42, "vault_golden", "m_golden"}
	testWho   = cacheWho{0x07, "vault_test", "m_test"}
)

func (w cacheWho) key() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{w.seed}, ed25519.SeedSize))
}

// secretCache returns w's cache over dir, built the way WithCache builds it.
func (w cacheWho) secretCache(t *testing.T, dir string) *secretCache {
	t.Helper()
	key, err := deriveCacheKey(w.key().Seed(), w.vault)
	if err != nil {
		t.Fatal(err)
	}
	return &secretCache{dir: dir, vaultID: w.vault, machineID: w.machine, key: key}
}

// cacheDrop makes cacheTestServer drop the connection without an answer.
const cacheDrop = -1

// cacheTestServer answers every request with the status and body it is set
// to: by default 200 and {"value": value}.
type cacheTestServer struct {
	*httptest.Server
	hits atomic.Int64

	mu     sync.Mutex
	status int
	body   string
	value  string
}

func newCacheTestServer(t *testing.T, value string) *cacheTestServer {
	s := &cacheTestServer{status: http.StatusOK, value: value}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// set makes the server answer status with body; "" means the default body.
func (s *cacheTestServer) set(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

func (s *cacheTestServer) serve(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	s.mu.Lock()
	status, body, value := s.status, s.body, s.value
	s.mu.Unlock()
	if status == cacheDrop {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	if body == "" {
		body = `{"error":"test failure"}`
		if status == http.StatusOK {
			b, _ := json.Marshal(map[string]string{"value": value})
			body = string(b)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// cacheLog collects a client's log records as JSON lines.
type cacheLog struct {
	logbuf.Buffer
}

func (l *cacheLog) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// find returns the records at level whose message contains msg.
func (l *cacheLog) find(t *testing.T, level slog.Level, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["level"] == level.String() && strings.Contains(rec["msg"].(string), msg) {
			out = append(out, rec)
		}
	}
	return out
}

// cacheFallback records OnFallback calls.
type cacheFallback struct {
	mu    sync.Mutex
	calls []string
}

func (f *cacheFallback) record(id string, cachedAt time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s@%d", id, cachedAt.Unix()))
}

func (f *cacheFallback) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// newCacheTestClient returns a client of who against url, without retries,
// with the cache configured by co.
func newCacheTestClient(t *testing.T, url string, who cacheWho, co CacheOptions, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithRetryBackoff(), WithCache(co)}, opts...)
	c, err := NewFromKey(Identity{MachineID: who.machine, VaultID: who.vault, APIURL: url}, who.key(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// cacheMustGet reads id and fails the test unless the value is want.
func cacheMustGet(t *testing.T, c *Client, id, want string) {
	t.Helper()
	got, err := c.GetSecret(context.Background(), id)
	if err != nil {
		t.Fatalf("GetSecret(%s): %v", id, err)
	}
	if got != want {
		t.Fatalf("GetSecret(%s) = %q, want %q", id, got, want)
	}
}

// cacheReseal returns a copy of the envelope data with change applied to it.
func cacheReseal(t *testing.T, data []byte, change func(*cacheEnvelope)) []byte {
	t.Helper()
	var env cacheEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	change(&env)
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// cacheFlipByte returns a copy of the base64 text b64 with byte i of its decoded
// content inverted.
func cacheFlipByte(t *testing.T, b64 string, i int) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	raw[i] ^= 0xff
	return base64.StdEncoding.EncodeToString(raw)
}

// cacheSealPlaintext writes an entry with an arbitrary plaintext, as another
// writer (CLI, Kotlin, .NET) would.
func cacheSealPlaintext(t *testing.T, sc *secretCache, id, pt string, cachedAt int64) []byte {
	t.Helper()
	aead, err := sc.gcm()
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	data, err := json.Marshal(cacheEnvelope{
		V:        cacheVersion,
		Nonce:    base64.StdEncoding.EncodeToString(nonce),
		CT:       base64.StdEncoding.EncodeToString(aead.Seal(nil, nonce, []byte(pt), sc.aad(id, cachedAt))),
		CachedAt: cachedAt,
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestCacheGoldenVector(t *testing.T) {
	t.Parallel()
	sc := goldenWho.secretCache(t, t.TempDir())
	if got := hex.EncodeToString(sc.key); got != goldenKeyHex {
		t.Fatalf("derived key = %s, want %s", got, goldenKeyHex)
	}
	pt, cachedAt, err := sc.open("sk_golden", []byte(goldenEnvelope))
	if err != nil {
		t.Fatalf("golden vector does not open: %v", err)
	}
	if string(pt) != goldenPlaintext || cachedAt != goldenCachedAt {
		t.Fatalf("golden vector = %s at %d, want %s at %d", pt, cachedAt, goldenPlaintext, goldenCachedAt)
	}
	entry, err := sc.decode("sk_golden", []byte(goldenEnvelope))
	if err != nil || entry.value != "golden-value-123" || entry.cachedAt.Unix() != goldenCachedAt {
		t.Fatalf("decode = %+v, %v", entry, err)
	}
}

// TestCacheGoldenVectorTampered checks that every change to the vector, or
// to the context it is read in, is refused.
func TestCacheGoldenVectorTampered(t *testing.T) {
	t.Parallel()
	golden := []byte(goldenEnvelope)
	var env cacheEnvelope
	if err := json.Unmarshal(golden, &env); err != nil {
		t.Fatal(err)
	}
	sc := goldenWho.secretCache(t, t.TempDir())
	refused := func(name string, sc *secretCache, id string, data []byte) {
		t.Helper()
		if pt, _, err := sc.open(id, data); err == nil {
			t.Errorf("%s: opened to %s, want refusal", name, pt)
		}
	}
	ct, _ := base64.StdEncoding.DecodeString(env.CT)
	for i := range ct {
		refused(fmt.Sprintf("ct byte %d", i), sc, "sk_golden",
			cacheReseal(t, golden, func(e *cacheEnvelope) { e.CT = cacheFlipByte(t, e.CT, i) }))
	}
	refused("ct truncated", sc, "sk_golden", cacheReseal(t, golden, func(e *cacheEnvelope) {
		e.CT = base64.StdEncoding.EncodeToString(ct[:len(ct)-1])
	}))
	for i := range 12 {
		refused(fmt.Sprintf("nonce byte %d", i), sc, "sk_golden",
			cacheReseal(t, golden, func(e *cacheEnvelope) { e.Nonce = cacheFlipByte(t, e.Nonce, i) }))
	}
	for _, d := range []int64{-1, 1, 3600, -goldenCachedAt} {
		refused(fmt.Sprintf("cachedAt%+d", d), sc, "sk_golden",
			cacheReseal(t, golden, func(e *cacheEnvelope) { e.CachedAt += d }))
	}
	refused("other secret id", sc, "sk_other", golden)

	for name, who := range map[string]cacheWho{
		"other vault":   {goldenWho.seed, "vault_other", goldenWho.machine},
		"other machine": {goldenWho.seed, goldenWho.vault, "m_other"},
		"other key":     {0x43, goldenWho.vault, goldenWho.machine},
	} {
		refused(name, who.secretCache(t, t.TempDir()), "sk_golden", golden)
	}
	// The vault id is bound by the AAD as well as by the key.
	aadOnly := *sc
	aadOnly.vaultID = "vault_other"
	refused("other vault in AAD only", &aadOnly, "sk_golden", golden)
}

func TestCacheGoldenVectorServedByClient(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sk_golden.skc"), []byte(goldenEnvelope), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := newCacheTestServer(t, "")
	srv.set(http.StatusServiceUnavailable, "")
	var fb cacheFallback
	c := newCacheTestClient(t, srv.URL, goldenWho, CacheOptions{Dir: dir, OnFallback: fb.record})
	cacheMustGet(t, c, "sk_golden", "golden-value-123")
	if got, want := fb.got(), []string{fmt.Sprintf("sk_golden@%d", goldenCachedAt)}; !slices.Equal(got, want) {
		t.Fatalf("OnFallback calls = %v, want %v", got, want)
	}
}

func TestCacheRoundTrip(t *testing.T) {
	t.Parallel()
	for _, value := range []string{"plain", "", `{"host":"db","port":5432}`, "<&> \"quoted\"\n\tæøå \u2028 \x00 end"} {
		dir := t.TempDir()
		srv := newCacheTestServer(t, value)
		c := newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: dir})
		cacheMustGet(t, c, "sk_round", value)

		// The file is what a by-id read writes everywhere: {"value": ...}.
		data, err := os.ReadFile(filepath.Join(dir, "sk_round.skc"))
		if err != nil {
			t.Fatal(err)
		}
		pt, cachedAt, err := testWho.secretCache(t, dir).open("sk_round", data)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(map[string]string{"value": value})
		if string(pt) != string(want) {
			t.Fatalf("plaintext = %s, want %s", pt, want)
		}
		if d := time.Since(time.Unix(cachedAt, 0)); d < -time.Second || d > time.Minute {
			t.Fatalf("cachedAt %d is not now", cachedAt)
		}

		// A second client (another process, say) reads it back.
		srv.set(http.StatusBadGateway, "")
		other := newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: dir})
		cacheMustGet(t, other, "sk_round", value)
	}
}

// TestCacheOtherWriters reads plaintexts as the CLI, Kotlin and .NET write
// them: any key order, name and fieldNames present or null, escapes.
func TestCacheOtherWriters(t *testing.T) {
	t.Parallel()
	sc := testWho.secretCache(t, t.TempDir())
	for pt, want := range map[string]string{
		`{"name":"DB","value":"{\"a\":\"b\"}","fieldNames":"a"}`: `{"a":"b"}`,
		`{"value":"v","name":"DB","fieldNames":null}`:            "v",
		`{"fieldNames":"[\"a\"]","value":"v2"}`:                  "v2",
		`{"value":"\u00e6\u003c"}`:                               "æ<",
	} {
		entry, err := sc.decode("sk_x", cacheSealPlaintext(t, sc, "sk_x", pt, 1700000000))
		if err != nil || entry.value != want {
			t.Errorf("%s: got %q, %v; want %q", pt, entry.value, err, want)
		}
	}
}

// TestCacheUnusableEntries checks that every bad entry is a miss, with a
// warning except for an unknown version, and never a value or a panic.
func TestCacheUnusableEntries(t *testing.T) {
	t.Parallel()
	sc := testWho.secretCache(t, t.TempDir())
	good, err := sc.encode("sk_bad", "the-secret-value", 1700000000)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		warn bool
	}{
		{"version 2", cacheReseal(t, good, func(e *cacheEnvelope) { e.V = 2 }), false},
		{"no version", []byte(`{"nonce":"AAAAAAAAAAAAAAAA","ct":"AAAA","cachedAt":1}`), false},
		{"empty file", nil, true},
		{"not JSON", []byte("garbage"), true},
		{"version as string", []byte(`{"v":"1"}`), true},
		{"nonce not base64", cacheReseal(t, good, func(e *cacheEnvelope) { e.Nonce = "!!!" }), true},
		{"ct not base64", cacheReseal(t, good, func(e *cacheEnvelope) { e.CT = "%%%" }), true},
		{"short nonce", cacheReseal(t, good, func(e *cacheEnvelope) { e.Nonce = "AAAA" }), true},
		{"tampered ct", cacheReseal(t, good, func(e *cacheEnvelope) { e.CT = cacheFlipByte(t, e.CT, 0) }), true},
		{"plaintext not JSON", cacheSealPlaintext(t, sc, "sk_bad", "the-secret-value", 1), true},
		{"plaintext without value", cacheSealPlaintext(t, sc, "sk_bad", `{"name":"n"}`, 1), true},
		{"value not a string", cacheSealPlaintext(t, sc, "sk_bad", `{"value":5}`, 1), true},
	}
	for _, tc := range cases {
		if err := os.WriteFile(sc.path("sk_bad"), tc.data, 0o600); err != nil {
			t.Fatal(err)
		}
		var log cacheLog
		if entry, ok := sc.load(context.Background(), log.logger(), "sk_bad"); ok {
			t.Errorf("%s: served %q, want a miss", tc.name, entry.value)
		}
		if warned := len(log.find(t, slog.LevelWarn, "cache entry unusable")) > 0; warned != tc.warn {
			t.Errorf("%s: warned = %v, want %v; log: %s", tc.name, warned, tc.warn, log.String())
		}
		if strings.Contains(log.String(), "the-secret-value") {
			t.Errorf("%s: log contains the value: %s", tc.name, log.String())
		}
	}
	var log cacheLog
	if _, ok := sc.load(context.Background(), log.logger(), "sk_missing"); ok || log.String() != "" {
		t.Errorf("missing file: served or logged %q", log.String())
	}
}

// TestCacheIdentityBinding writes with one identity and reads with others.
func TestCacheIdentityBinding(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := testWho.secretCache(t, dir).store("sk_bound", "v", time.Now()); err != nil {
		t.Fatal(err)
	}
	for name, who := range map[string]cacheWho{
		"other vault":   {testWho.seed, "vault_other", testWho.machine},
		"other machine": {testWho.seed, testWho.vault, "m_other"},
		"other key":     {testWho.seed + 1, testWho.vault, testWho.machine},
	} {
		var log cacheLog
		if _, ok := who.secretCache(t, dir).load(context.Background(), log.logger(), "sk_bound"); ok {
			t.Errorf("%s: entry served", name)
		}
		if len(log.find(t, slog.LevelWarn, "cache entry unusable")) != 1 {
			t.Errorf("%s: no warning: %s", name, log.String())
		}
	}
	// The same file under another secret id.
	sc := testWho.secretCache(t, dir)
	data, _ := os.ReadFile(sc.path("sk_bound"))
	if err := os.WriteFile(sc.path("sk_moved"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := sc.load(context.Background(), slog.New(slog.DiscardHandler), "sk_moved"); ok {
		t.Error("entry served under another secret id")
	}
	if _, ok := sc.load(context.Background(), slog.New(slog.DiscardHandler), "sk_bound"); !ok {
		t.Error("the original entry is not served")
	}
}

func TestCacheMaxAge(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		maxAge, after time.Duration
		served        bool
	}{
		{time.Hour, 59 * time.Minute, true},
		{time.Hour, time.Hour, true},
		{time.Hour, time.Hour + 2*time.Second, false},
		{0, 10 * 365 * 24 * time.Hour, true},
	} {
		var log cacheLog
		srv := newCacheTestServer(t, "aged")
		c := newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: t.TempDir(), MaxAge: tc.maxAge}, WithLogger(log.logger()))
		c.now = func() time.Time { return start }
		cacheMustGet(t, c, "sk_aged", "aged")
		srv.set(http.StatusServiceUnavailable, "")
		c.now = func() time.Time { return start.Add(tc.after) }
		value, err := c.GetSecret(context.Background(), "sk_aged")
		if tc.served {
			if err != nil || value != "aged" {
				t.Errorf("MaxAge %v after %v: %q, %v; want served", tc.maxAge, tc.after, value, err)
			}
			continue
		}
		if !errors.Is(err, ErrUnavailable) || value != "" {
			t.Errorf("MaxAge %v after %v: %q, %v; want ErrUnavailable", tc.maxAge, tc.after, value, err)
		}
		if len(log.find(t, slog.LevelWarn, "older than MaxAge")) != 1 {
			t.Errorf("no warning about the old entry: %s", log.String())
		}
	}
}

// cacheUnavailableStatuses is the "unavailable" list of protocol §8, with
// cacheDrop standing for a dropped connection (status 0).
var cacheUnavailableStatuses = []int{cacheDrop, 502, 503, 504, 520, 521, 522, 523, 524, 525, 526, 527, 530}

func TestCacheUnavailableFallsBack(t *testing.T) {
	t.Parallel()
	for _, status := range cacheUnavailableStatuses {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			srv := newCacheTestServer(t, "fallback-value")
			var fb cacheFallback
			c := newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: t.TempDir(), OnFallback: fb.record})
			cacheMustGet(t, c, "sk_fb", "fallback-value")
			srv.set(status, "")
			cacheMustGet(t, c, "sk_fb", "fallback-value")
			if n := len(fb.got()); n != 1 {
				t.Fatalf("OnFallback called %d times, want 1", n)
			}
			// Without an entry the live error comes back.
			_, err := c.GetSecret(context.Background(), "sk_never_cached")
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("uncached read: %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestCacheClosedListenerFallsBack(t *testing.T) {
	t.Parallel()
	srv := newCacheTestServer(t, "v")
	var fb cacheFallback
	c := newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: t.TempDir(), OnFallback: fb.record})
	cacheMustGet(t, c, "sk_cl", "v")
	srv.Close()
	cacheMustGet(t, c, "sk_cl", "v")
	if len(fb.got()) != 1 {
		t.Fatalf("OnFallback calls: %v", fb.got())
	}
}

func TestCacheAuthoritativeNotMasked(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		body   string
		want   error
	}{
		{400, "", nil},
		{401, "", ErrAuthentication},
		{403, "", ErrAccessDenied},
		{404, "", ErrNotFound},
		{409, "", ErrConflict},
		{418, "", nil},
		{429, "", ErrRateLimited},
		{500, "", nil},
		{501, "", nil},
		{505, "", nil},
		{200, "not json", ErrInvalidResponse},
		{200, `{"other":1}`, ErrInvalidResponse},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.body), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			srv := newCacheTestServer(t, "must-not-be-served")
			var fb cacheFallback
			c := newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: dir, OnFallback: fb.record})
			cacheMustGet(t, c, "sk_auth", "must-not-be-served")
			srv.set(tc.status, tc.body)
			value, err := c.GetSecret(context.Background(), "sk_auth")
			if err == nil || value != "" || errors.Is(err, ErrUnavailable) {
				t.Fatalf("got %q, %v; want the live error", value, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v does not match %v", err, tc.want)
			}
			var apiErr *APIError
			if tc.status != 200 && (!errors.As(err, &apiErr) || apiErr.StatusCode != tc.status) {
				t.Fatalf("error %v is not an APIError with status %d", err, tc.status)
			}
			if len(fb.got()) != 0 {
				t.Fatalf("OnFallback called: %v", fb.got())
			}
			// Deletion and revocation also remove the entry.
			_, statErr := os.Stat(filepath.Join(dir, "sk_auth.skc"))
			if gone := errors.Is(statErr, fs.ErrNotExist); gone != (tc.status == 403 || tc.status == 404) {
				t.Fatalf("entry removed = %v after %d", gone, tc.status)
			}
		})
	}
}

func TestCacheContext(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	var hang atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		io.WriteString(w, `{"value":"ctx-value"}`)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	var fb cacheFallback
	c := newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: t.TempDir(), OnFallback: fb.record})
	cacheMustGet(t, c, "sk_ctx", "ctx-value")
	hang.Store(true)

	// Running out of time counts as unavailable.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if v, err := c.GetSecret(ctx, "sk_ctx"); err != nil || v != "ctx-value" {
		t.Fatalf("deadline: %q, %v; want the cached value", v, err)
	}
	// A cancelled read is not answered.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if v, err := c.GetSecret(ctx, "sk_ctx"); !errors.Is(err, context.Canceled) || v != "" {
		t.Fatalf("cancelled: %q, %v; want context.Canceled", v, err)
	}
	if len(fb.got()) != 1 {
		t.Fatalf("OnFallback calls: %v", fb.got())
	}
}

func TestCacheUnsafeSecretID(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "a", "cache")
	srv := newCacheTestServer(t, "v")
	c := newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: dir})
	sc := c.cache
	unsafe := []string{"../evil", "a/b", `a\b`, "..", "a.b", "", "sk x", "sk%2f", "sk\x00"}
	for _, id := range unsafe {
		if _, err := c.GetSecret(context.Background(), id); !errors.Is(err, ErrInvalidSecretID) {
			t.Errorf("GetSecret(%q): %v, want ErrInvalidSecretID", id, err)
		}
		if err := sc.store(id, "v", time.Now()); err == nil {
			t.Errorf("store(%q) succeeded", id)
		}
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("%d requests made", n)
	}
	// Nothing was written anywhere.
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("file written: %s", path)
		}
		return nil
	})
	// A valid entry planted where "../evil" would point is never read.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	planted, err := sc.encode("../evil", "planted", time.Now().Unix())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "a", "evil.skc"), planted, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := sc.load(context.Background(), slog.New(slog.DiscardHandler), "../evil"); ok {
		t.Error("entry read through an unsafe id")
	}
	if err := sc.remove("../evil"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "a", "evil.skc")); err != nil {
		t.Error("remove followed an unsafe id")
	}
}

// TestCacheConcurrentWriters has two clients of one identity rewrite the same
// entry from many goroutines while the file is read back continuously: no
// read may ever see a torn file.
func TestCacheConcurrentWriters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"value":"value-%d-%s"}`, n.Add(1), strings.Repeat("x", 4096))
	}))
	t.Cleanup(srv.Close)
	var log cacheLog
	clients := []*Client{
		newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: dir}, WithLogger(log.logger())),
		newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: dir}, WithLogger(log.logger())),
	}
	sc := testWho.secretCache(t, dir)
	done := make(chan struct{})
	var torn, reads atomic.Int64
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				data, err := os.ReadFile(sc.path("sk_shared"))
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				reads.Add(1)
				if err != nil {
					torn.Add(1)
					continue
				}
				if entry, err := sc.decode("sk_shared", data); err != nil || !strings.HasPrefix(entry.value, "value-") {
					torn.Add(1)
				}
			}
		}()
	}
	var writers sync.WaitGroup
	for _, c := range clients {
		for range 8 {
			writers.Add(1)
			go func() {
				defer writers.Done()
				for range 15 {
					if _, err := c.GetSecret(context.Background(), "sk_shared"); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	writers.Wait()
	close(done)
	readers.Wait()
	if torn.Load() != 0 {
		t.Fatalf("%d of %d reads saw a torn or undecodable file", torn.Load(), reads.Load())
	}
	if w := log.find(t, slog.LevelWarn, "cache"); len(w) != 0 {
		t.Fatalf("cache warnings: %v", w)
	}
	data, err := os.ReadFile(sc.path("sk_shared"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.decode("sk_shared", data); err != nil {
		t.Fatalf("final entry: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("cache dir holds %d files, want only the entry", len(entries))
	}
}

func TestCacheFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	t.Parallel()
	root := t.TempDir()
	fresh := filepath.Join(root, "fresh", "cache")
	loose := filepath.Join(root, "loose")
	if err := os.Mkdir(loose, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{fresh, loose} {
		if err := testWho.secretCache(t, dir).store("sk_mode", "v", time.Now()); err != nil {
			t.Fatal(err)
		}
		if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, %v; want 0700", dir, info.Mode().Perm(), err)
		}
		if info, err := os.Stat(filepath.Join(dir, "sk_mode.skc")); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s entry: mode %v, %v; want 0600", dir, info.Mode().Perm(), err)
		}
	}
}

func TestCacheFallbackLogAndHook(t *testing.T) {
	t.Parallel()
	const value = "s3cr3t-do-not-log"
	var log cacheLog
	var fb cacheFallback
	srv := newCacheTestServer(t, value)
	c := newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: t.TempDir(), OnFallback: fb.record}, WithLogger(log.logger()))
	written := time.Unix(1_800_000_000, 0)
	c.now = func() time.Time { return written }
	cacheMustGet(t, c, "sk_logged", value)
	srv.set(http.StatusGatewayTimeout, "")
	c.now = func() time.Time { return written.Add(90 * time.Second) }
	cacheMustGet(t, c, "sk_logged", value)

	if got, want := fb.got(), []string{fmt.Sprintf("sk_logged@%d", written.Unix())}; !slices.Equal(got, want) {
		t.Fatalf("OnFallback calls = %v, want %v", got, want)
	}
	recs := log.find(t, slog.LevelWarn, "serving the secret from the offline cache")
	if len(recs) != 1 {
		t.Fatalf("want one fallback warning, log: %s", log.String())
	}
	rec := recs[0]
	if rec["secret"] != "sk_logged" || rec["age"] != float64(90*time.Second) {
		t.Fatalf("record %v: want secret sk_logged and age 90s", rec)
	}
	if strings.Contains(log.String(), value) {
		t.Fatalf("log contains the value: %s", log.String())
	}
}

func TestCacheOnFallbackPanic(t *testing.T) {
	t.Parallel()
	var log cacheLog
	srv := newCacheTestServer(t, "v")
	c := newCacheTestClient(t, srv.URL, testWho,
		CacheOptions{Dir: t.TempDir(), OnFallback: func(string, time.Time) { panic("boom") }}, WithLogger(log.logger()))
	cacheMustGet(t, c, "sk_panic", "v")
	srv.set(http.StatusBadGateway, "")
	cacheMustGet(t, c, "sk_panic", "v")
	if len(log.find(t, slog.LevelError, "OnFallback panicked")) != 1 {
		t.Fatalf("panic not logged: %s", log.String())
	}
}

func TestCacheWriteFailureKeepsRead(t *testing.T) {
	t.Parallel()
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var log cacheLog
	srv := newCacheTestServer(t, "still-read")
	c := newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: filepath.Join(blocker, "cache")}, WithLogger(log.logger()))
	cacheMustGet(t, c, "sk_w", "still-read")
	if len(log.find(t, slog.LevelWarn, "could not write the offline cache entry")) != 1 {
		t.Fatalf("write failure not logged: %s", log.String())
	}
	if strings.Contains(log.String(), "still-read") {
		t.Fatalf("log contains the value: %s", log.String())
	}
}

func TestCacheStructuredReads(t *testing.T) {
	t.Parallel()
	srv := newCacheTestServer(t, `{"user":"app","port":5432}`)
	c := newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: t.TempDir()})
	if _, err := c.GetFields(context.Background(), "sk_db"); err != nil {
		t.Fatal(err)
	}
	srv.set(cacheDrop, "")
	if v, err := c.GetField(context.Background(), "sk_db", "port"); err != nil || v != "5432" {
		t.Fatalf("GetField from cache: %q, %v", v, err)
	}
}

func TestCacheClear(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := newCacheTestServer(t, "v")
	c := newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: dir})
	cacheMustGet(t, c, "sk_a", "v")
	cacheMustGet(t, c, "sk_b", "v")
	for _, name := range []string{".skc-123", ".skc-tmp-abc", "keep.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.skc"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.ClearCache(); err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, []string{"keep.txt", "sub.skc"}) {
		t.Fatalf("left after ClearCache: %v", left)
	}
	srv.set(http.StatusServiceUnavailable, "")
	if _, err := c.GetSecret(context.Background(), "sk_a"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("read after ClearCache: %v, want ErrUnavailable", err)
	}
	missing := newCacheTestClient(t, srv.URL, testWho, CacheOptions{Dir: filepath.Join(dir, "missing")})
	if err := missing.ClearCache(); err != nil {
		t.Fatalf("ClearCache of a missing directory: %v", err)
	}
}

func TestCacheConfiguration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		vault string
		co    CacheOptions
	}{
		"empty vault id":  {"", CacheOptions{}},
		"unsafe vault id": {"../vault", CacheOptions{}},
		"negative MaxAge": {"vault_x", CacheOptions{Dir: dir, MaxAge: -time.Second}},
	} {
		_, err := NewFromKey(Identity{MachineID: "m", VaultID: tc.vault, APIURL: "https://example.com"}, testWho.key(), WithCache(tc.co))
		if !errors.Is(err, ErrConfiguration) {
			t.Errorf("%s: %v, want ErrConfiguration", name, err)
		}
	}
	// Without a vault id, Dir is enough (the key's salt is then empty).
	srv := newCacheTestServer(t, "no-vault")
	noVault := cacheWho{testWho.seed, "", testWho.machine}
	c := newCacheTestClient(t, srv.URL, noVault, CacheOptions{Dir: dir})
	cacheMustGet(t, c, "sk_nv", "no-vault")
	srv.set(http.StatusBadGateway, "")
	cacheMustGet(t, c, "sk_nv", "no-vault")
	// ClearCache needs a directory too.
	plain, err := NewFromKey(Identity{MachineID: "m", APIURL: srv.URL}, testWho.key())
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.ClearCache(); !errors.Is(err, ErrConfiguration) {
		t.Fatalf("ClearCache without a vault id: %v, want ErrConfiguration", err)
	}
}

// TestCacheDefaultDir uses $SIKKERKEY_HOME, so it does not run in parallel.
func TestCacheDefaultDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("SIKKERKEY_HOME", home)
	srv := newCacheTestServer(t, "v")
	entry := filepath.Join(home, "vaults", testWho.vault, "cache", "sk_home.skc")

	// Off unless asked for.
	plain, err := NewFromKey(Identity{MachineID: testWho.machine, VaultID: testWho.vault, APIURL: srv.URL}, testWho.key(), WithRetryBackoff())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	cacheMustGet(t, plain, "sk_home", "v")
	if _, err := os.Stat(filepath.Join(home, "vaults")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a client without WithCache wrote to %s", home)
	}

	c := newCacheTestClient(t, srv.URL, testWho, CacheOptions{})
	cacheMustGet(t, c, "sk_home", "v")
	if _, err := os.Stat(entry); err != nil {
		t.Fatalf("entry not at the default path: %v", err)
	}
	// ClearCache works without WithCache, on the default directory.
	if err := plain.ClearCache(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(entry); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("entry survived ClearCache: %v", err)
	}
}
