package sikkerkey_test

// The leak-proofing suite: every public error path of the sdk, the loader,
// hot reload and the sources runs with recognisable secret values (all
// containing "LEAK-canary"), and nothing a person or a log pipeline could
// see may contain them: error texts at every depth of the error tree and
// with every fmt verb, slog records (JSON and text, Debug level), values of
// recovered panics, and fmt/JSON/slog dumps of configurations (loaded,
// Current, OnChange old/new) and of the library's own values (clients,
// sources, watchers). Errors are printed with every verb; other values
// with every verb go vet accepts for their type (see vetAccepts).
//
// Each row asserts the failure it provokes (errors.Is), so that it cannot
// pass by never reaching the path it is about. Server error bodies are
// echoed by design and never hold a canary here; secret values do.
//
// Leaks found by the suite, kept as regression rows: %v of an *sdk.Client
// printed its private key ("sdk/identity files"); %#v of a source.Map
// printed its values ("source/values dump"); the HTTPS-rule error quoted
// an API URL's query string and fragment ("sdk/api url with credentials").

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/sikkerkey-go/sikkerkey"
	"github.com/sikkerkey-go/sikkerkey/internal/logbuf"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
	"github.com/sikkerkey-go/sikkerkey/source"
)

// canaryPrefix starts every secret value of the suite. Outputs are searched
// for the prefix, so that a cut or partly quoted value is caught too.
const canaryPrefix = "LEAK-canary"

var canarySeq atomic.Int64

// leakProbe gathers what one row showed to the outside and checks, when the
// row ends (after its watchers and clients are closed), that none of it
// contains a canary or another registered secret.
type leakProbe struct {
	t      *testing.T
	logger *slog.Logger // Debug level, JSON and text at once

	jsonLog, textLog logbuf.Buffer

	mu      sync.Mutex
	needles []string
	errs    []error
	values  []any
	texts   []string
}

// fanout sends every record to each of its handlers (slog.NewMultiHandler
// needs Go 1.26; the module supports older versions).
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (f fanout) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(attrs)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}

func newLeakProbe(t *testing.T) *leakProbe {
	p := &leakProbe{t: t}
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	p.logger = slog.New(fanout{slog.NewJSONHandler(&p.jsonLog, opts), slog.NewTextHandler(&p.textLog, opts)})
	p.needle(canaryPrefix)
	// Registered first, so it runs last: after the row's watchers, clients
	// and servers have been closed and have logged what they had to.
	t.Cleanup(p.check)
	return p
}

// canary returns a new secret value.
func (p *leakProbe) canary() string {
	return fmt.Sprintf("%s-%d", canaryPrefix, canarySeq.Add(1))
}

// needle registers another string that must never be shown (a number that
// fails to decode, key material, a token).
func (p *leakProbe) needle(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.needles = append(p.needles, s)
}

// err records an error to check; nil is ignored.
func (p *leakProbe) err(err error) {
	if err == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, err)
}

// value records a value to print with every fmt verb when the row ends.
func (p *leakProbe) value(v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.values = append(p.values, v)
}

// config records a configuration: it is printed with every fmt verb, and
// also marshalled to JSON and logged through slog (both handlers), as a
// service might do at start-up.
func (p *leakProbe) config(v any) {
	p.value(v)
	p.logger.Debug("leakproof: configuration", "cfg", v)
	data, err := json.Marshal(v)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.texts = append(p.texts, "json error: "+err.Error())
		return
	}
	p.texts = append(p.texts, string(data))
}

var (
	errVerbs   = []string{"Error()", "%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"}
	valueVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"}
)

func verbRune(verb string) rune { return rune(verb[len(verb)-1]) }

var (
	formatterType = reflect.TypeFor[fmt.Formatter]()
	stringerType  = reflect.TypeFor[fmt.Stringer]()
	errorType     = reflect.TypeFor[error]()
)

// vetAccepts reports whether go vet's printf check accepts an argument of
// type t for verb: a port of its matchArgType for the verbs used here.
//
// The suite checks only those verbs. A verb vet rejects makes fmt print its
// error form (%!s(*T=&{...})), which by design of fmt calls no Format,
// String or Error method at all: a Secret reached through a pointer then
// shows, whatever its methods (see the Limits of Secret). %v, %+v and %#v
// are always checked.
func vetAccepts(t reflect.Type, verb rune, top bool) bool {
	if t == nil || verb == 'v' || t.Implements(formatterType) {
		return true
	}
	str := strings.ContainsRune("sqxX", verb)
	pointer := strings.ContainsRune("pbdoxX", verb)
	if str && (t.Implements(stringerType) || t.Implements(errorType)) {
		return true
	}
	switch t.Kind() {
	case reflect.Func:
		return verb == 'p'
	case reflect.Chan, reflect.UnsafePointer:
		return pointer
	case reflect.Map:
		return vetAccepts(t.Key(), verb, false) && vetAccepts(t.Elem(), verb, false)
	case reflect.Array, reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && str {
			return true
		}
		return vetAccepts(t.Elem(), verb, false)
	case reflect.Pointer:
		switch t.Elem().Kind() {
		case reflect.Struct, reflect.Array, reflect.Slice, reflect.Map:
			return top && vetAccepts(t.Elem(), verb, false)
		}
		return pointer
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !vetAccepts(f.Type, verb, false) {
				return false
			}
			if str && !f.IsExported() && (f.Type.Implements(stringerType) || f.Type.Implements(errorType)) {
				return false
			}
		}
		return true
	case reflect.Interface:
		return true
	case reflect.Bool:
		return verb == 't'
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strings.ContainsRune("bcdoOqxXU", verb)
	case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return strings.ContainsRune("beEfFgGxX", verb)
	case reflect.String:
		return str
	}
	return false
}

// forms returns the ways a needle can appear: as is, and hex-encoded (what
// %x makes of a text that contains it).
func forms(n string) []string {
	h := hex.EncodeToString([]byte(n))
	return []string{n, h, strings.ToUpper(h)}
}

func (p *leakProbe) check() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var needles []string
	for _, n := range p.needles {
		needles = append(needles, forms(n)...)
	}
	leaked := func(what, text string) {
		for _, n := range needles {
			if i := strings.Index(text, n); i >= 0 {
				lo, hi := max(0, i-300), min(len(text), i+len(n)+100)
				p.t.Errorf("LEAK: %s contains %q:\n…%s…", what, n, text[lo:hi])
				return
			}
		}
	}
	for _, err := range p.errs {
		walkErrors(err, 0, func(e error, depth int) {
			for _, verb := range errVerbs {
				var text string
				// Every verb: errors travel as the error interface, for
				// which go vet accepts any verb.
				if verb == "Error()" {
					text = e.Error()
				} else {
					text = fmt.Sprintf(verb, e)
				}
				leaked(fmt.Sprintf("error %T at depth %d, as %s", e, depth, verb), text)
			}
		})
	}
	for _, v := range p.values {
		for _, verb := range valueVerbs {
			if vetAccepts(reflect.TypeOf(v), verbRune(verb), true) {
				leaked(fmt.Sprintf("value %T printed with %s", v, verb), fmt.Sprintf(verb, v))
			}
		}
	}
	for _, s := range p.texts {
		leaked("JSON of a configuration", s)
	}
	leaked("JSON log", p.jsonLog.String())
	leaked("text log", p.textLog.String())
	if len(p.errs) == 0 && len(p.values) == 0 && p.jsonLog.String() == "" {
		p.t.Error("the row checked nothing")
	}
}

// walkErrors visits err and every error below it.
func walkErrors(err error, depth int, visit func(error, int)) {
	if err == nil || depth > 32 {
		return
	}
	visit(err, depth)
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, inner := range u.Unwrap() {
			walkErrors(inner, depth+1, visit)
		}
	case interface{ Unwrap() error }:
		walkErrors(u.Unwrap(), depth+1, visit)
	}
}

// mustFail records err and fails the row unless it matches every target.
func mustFail(t *testing.T, p *leakProbe, what string, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	p.err(err)
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("%s: error does not match %v:\n%v", what, target, err)
		}
	}
}

// mustLoadError is mustFail for a *LoadError with at least n failing fields.
func mustLoadError(t *testing.T, p *leakProbe, what string, err error, n int, targets ...error) {
	t.Helper()
	mustFail(t, p, what, err, targets...)
	var le *sikkerkey.LoadError
	if err != nil && (!errors.As(err, &le) || len(le.Fields) < n) {
		t.Errorf("%s: want a *LoadError with at least %d fields, got:\n%v", what, n, err)
	}
}

func waitFor[V any](t *testing.T, c <-chan V, what string, match func(V) bool) V {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case v := <-c:
			if match(v) {
				return v
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func isErr(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func mentions(s string) func(error) bool {
	return func(err error) bool { return strings.Contains(err.Error(), s) }
}

// ---------------------------------------------------------------------------
// Configuration types.

type leakEchoText struct{ V string }

// UnmarshalText fails the way careless decoders do: quoting its input.
func (e *leakEchoText) UnmarshalText(b []byte) error {
	return fmt.Errorf("leakEchoText: cannot parse %q", b)
}

type leakEchoMS struct{ V string }

// UnmarshalMapstructure quotes its input too.
func (e *leakEchoMS) UnmarshalMapstructure(in any) error {
	return fmt.Errorf("leakEchoMS: cannot use %v", in)
}

// leakHooked is decoded only by leakHook, which quotes its input.
type leakHooked struct{ V string }

var leakHook = mapstructure.DecodeHookFuncType(func(from, to reflect.Type, data any) (any, error) {
	if to == reflect.TypeFor[leakHooked]() {
		return nil, fmt.Errorf("leakHook: %q is not a leakHooked", data)
	}
	return data, nil
})

// leakDecodeAll has one field per kind of decoding failure, each with a
// secret of its own.
type leakDecodeAll struct {
	Int     int                      `sikkerkey:"sk_int"`
	Int8    int8                     `sikkerkey:"sk_int8"`
	Uint    uint                     `sikkerkey:"sk_uint"`
	Uint64  uint64                   `sikkerkey:"sk_uint64"`
	Float   float64                  `sikkerkey:"sk_float"`
	Float32 float32                  `sikkerkey:"sk_float32"`
	Complex complex128               `sikkerkey:"sk_complex"`
	Bool    bool                     `sikkerkey:"sk_bool"`
	Dur     time.Duration            `sikkerkey:"sk_dur"`
	Time    time.Time                `sikkerkey:"sk_time"`
	PTime   *time.Time               `sikkerkey:"sk_time"`
	URL     url.URL                  `sikkerkey:"sk_url"`
	PURL    *url.URL                 `sikkerkey:"sk_url2"`
	Addr    netip.Addr               `sikkerkey:"sk_addr"`
	PAddr   *netip.Addr              `sikkerkey:"sk_addr2"`
	Prefix  netip.Prefix             `sikkerkey:"sk_prefix"`
	IP      net.IP                   `sikkerkey:"sk_ip"` // its UnmarshalText quotes the input
	Echo    leakEchoText             `sikkerkey:"sk_echo"`
	EchoMS  leakEchoMS               `sikkerkey:"sk_echo"`
	Hooked  leakHooked               `sikkerkey:"sk_obj,field=hooked"`
	Ints    []int                    `sikkerkey:"sk_ints"`
	Durs    []time.Duration          `sikkerkey:"sk_durs"`
	Addrs   []netip.Addr             `sikkerkey:"sk_addrs"`
	PInt    *int                     `sikkerkey:"sk_int"`
	Map     map[string]int           `sikkerkey:"sk_obj"`
	MapDur  map[string]time.Duration `sikkerkey:"sk_obj"`
	Struct  struct {
		N int
		D time.Duration
	} `sikkerkey:"sk_obj2"`
	Field   uint16 `sikkerkey:"sk_obj3,field=port"`
	Default int    `sikkerkey:"sk_absent,default=LEAK-canary-default"`
}

// leakDBFields is a struct filled from every field of a structured secret.
type leakDBFields struct {
	Host     string
	Password sikkerkey.Secret
	Token    *sikkerkey.Secret
}

// leakEmbedded is embedded unexported: fmt reaches its fields through an
// unexported one.
type leakEmbedded struct {
	Embedded sikkerkey.Secret `sikkerkey:"sk_api"`
}

// leakDumpCfg holds secrets in every shape a configuration can: it must
// print, marshal and log as [REDACTED] everywhere.
type leakDumpCfg struct {
	leakEmbedded
	API    sikkerkey.Secret            `sikkerkey:"sk_api"`
	PAPI   *sikkerkey.Secret           `sikkerkey:"sk_api"`
	DB     leakDBFields                `sikkerkey:"sk_db"`
	PDB    *leakDBFields               `sikkerkey:"sk_db"`
	All    map[string]sikkerkey.Secret `sikkerkey:"sk_db"`
	List   []sikkerkey.Secret          `sikkerkey:"sk_list"`
	Pass   sikkerkey.Secret            `sikkerkey:"sk_db,field=password"`
	Opt    *sikkerkey.Secret           `sikkerkey:"sk_absent,optional"`
	Nested struct {
		Deep *struct {
			Key sikkerkey.Secret `sikkerkey:"sk_api"`
		}
	}
	Port int `sikkerkey:"sk_port"`
}

// leakCfg is the configuration of the SikkerKey fault rows: one structured
// secret, so that a load makes one request per attempt.
type leakCfg struct {
	DB   leakDBFields     `sikkerkey:"sk_db"`
	Pass sikkerkey.Secret `sikkerkey:"sk_db,field=password"`
}

type leakReloadCfg struct {
	Key  sikkerkey.Secret `sikkerkey:"sk_api"`
	Port int              `sikkerkey:"sk_port"`
	DB   leakDBFields     `sikkerkey:"sk_db"`
}

var errLeakRejected = errors.New("leakproof: the configuration was rejected")

// leakValidated rejects a key ending in -reject with a constant error and
// panics, quoting the key, on one ending in -panic.
type leakValidated leakReloadCfg

func (c *leakValidated) Validate() error {
	switch key := c.Key.Reveal(); {
	case strings.HasSuffix(key, "-panic"):
		panic("Validate saw the key " + key)
	case strings.HasSuffix(key, "-reject"):
		return errLeakRejected
	}
	return nil
}

type leakBadTags struct {
	Typo       string            `sikkerkey:"sk_a,defualt=LEAK-canary-tag-1"`
	OptDef     string            `sikkerkey:"sk_a,optional,default=LEAK-canary-tag-2"`
	StructDef  leakDBFields      `sikkerkey:"sk_db,default=LEAK-canary-tag-3"`
	MapDef     map[string]string `sikkerkey:"sk_db,default=LEAK-canary-tag-4"`
	NoID       string            `sikkerkey:",default=LEAK-canary-tag-5"`
	Chan       chan string       `sikkerkey:"sk_a"`
	EmptyField string            `sikkerkey:"sk_a,field=,default=LEAK-canary-tag-6"`
}

// ---------------------------------------------------------------------------
// SikkerKey test rig.

type leakRig struct {
	srv *sikkerkeytest.Server
	m   *sikkerkeytest.Machine
	c   *sdk.Client
	api string            // value of sk_api
	db  map[string]string // fields of sk_db
}

// newLeakRig starts a test server holding canaries and a client that logs
// to the probe, retries twice without waiting and polls fast.
func newLeakRig(t *testing.T, p *leakProbe, opts ...sdk.Option) *leakRig {
	t.Helper()
	srv := sikkerkeytest.NewServer()
	t.Cleanup(srv.Close)
	r := &leakRig{srv: srv, m: srv.AddMachine("leakproof"), api: p.canary()}
	r.db = map[string]string{"host": "db.internal", "password": p.canary(), "token": p.canary()}
	srv.PutFields("sk_db", "db", "prj", r.db)
	srv.PutSecret("sk_api", "api", "prj", r.api)
	srv.PutSecret("sk_port", "port", "prj", "8080")
	srv.PutSecret("sk_list", "list", "prj", p.canary()+", "+p.canary())
	base := []sdk.Option{
		sdk.WithLogger(p.logger),
		sdk.WithRetryBackoff(time.Millisecond, time.Millisecond),
		sdk.WithMaxRetryAfter(time.Millisecond),
		sdk.WithMinPollInterval(5 * time.Millisecond),
		sdk.WithPollInterval(10 * time.Millisecond),
	}
	c, err := r.m.Client(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	r.c = c
	return r
}

// leakFault is a way for the SikkerKey API to fail.
type leakFault struct {
	name   string
	opts   []sdk.Option
	inject func(r *leakRig) // before each operation
	sdkIs  error            // what a failed read matches
	loadIs error            // what a failed Load matches
}

func failNext(status, n int) func(*leakRig) {
	return func(r *leakRig) {
		for range n {
			r.srv.FailNext(status)
		}
	}
}

var leakFaults = []leakFault{
	{name: "401 removed machine", inject: func(r *leakRig) { r.m.Remove() }, sdkIs: sdk.ErrAuthentication, loadIs: sdk.ErrAuthentication},
	{name: "401 clock skew", inject: func(r *leakRig) {
		r.srv.SetClock(func() time.Time { return time.Now().Add(10 * time.Minute) })
	}, sdkIs: sdk.ErrAuthentication, loadIs: sdk.ErrAuthentication},
	{name: "403 revoked", inject: func(r *leakRig) {
		for _, id := range []string{"sk_db", "sk_api", "sk_port", "sk_list"} {
			r.srv.Revoke(r.m.ID(), id)
		}
	}, sdkIs: sdk.ErrAccessDenied, loadIs: sdk.ErrAccessDenied},
	{name: "403 disabled", inject: func(r *leakRig) { r.m.Disable() }, sdkIs: sdk.ErrAccessDenied, loadIs: sdk.ErrAccessDenied},
	{name: "404 deleted", inject: func(r *leakRig) {
		for _, id := range []string{"sk_db", "sk_api", "sk_port", "sk_list"} {
			r.srv.Delete(id)
		}
	}, sdkIs: sdk.ErrNotFound, loadIs: sikkerkey.ErrMissing},
	{name: "302 redirect", inject: failNext(302, 3)},
	{name: "400", inject: failNext(400, 3)},
	{name: "409", inject: failNext(409, 3), sdkIs: sdk.ErrConflict, loadIs: sdk.ErrConflict},
	{name: "429 with Retry-After", inject: func(r *leakRig) {
		for range 3 {
			r.srv.FailNextWithRetryAfter(429, time.Second)
		}
	}, sdkIs: sdk.ErrRateLimited, loadIs: sdk.ErrRateLimited},
	{name: "500", inject: failNext(500, 3)},
	{name: "502", inject: failNext(502, 3), sdkIs: sdk.ErrUnavailable, loadIs: sdk.ErrUnavailable},
	{name: "503 sealed", inject: func(r *leakRig) { r.srv.Seal() }, sdkIs: sdk.ErrServerSealed, loadIs: sdk.ErrServerSealed},
	{name: "504", inject: failNext(504, 3), sdkIs: sdk.ErrUnavailable, loadIs: sdk.ErrUnavailable},
	{name: "dropped connection", inject: func(r *leakRig) { r.srv.DropNext(3) }, sdkIs: sdk.ErrUnavailable, loadIs: sdk.ErrUnavailable},
	{name: "timeout", opts: []sdk.Option{sdk.WithTimeout(30 * time.Millisecond)}, inject: func(r *leakRig) {
		for range 3 {
			r.srv.DelayNext(time.Second)
		}
	}, sdkIs: sdk.ErrUnavailable, loadIs: sdk.ErrUnavailable},
}

// runFault makes every sdk read and a Load and a Watch fail with f. Reads
// that the fault does not make fail (a list without the revoked secret)
// are fine; at least the reads of a secret must fail.
func runFault(t *testing.T, p *leakProbe, f leakFault) {
	r := newLeakRig(t, p, f.opts...)
	ctx := context.Background()

	f.inject(r)
	var cfg leakCfg
	err := sikkerkey.Load(ctx, &cfg, sikkerkey.WithClient(r.c), sikkerkey.WithLogger(p.logger))
	mustLoadError(t, p, "Load", err, 1, nonNil(f.loadIs)...)
	p.config(cfg)
	f.inject(r)
	w, err := sikkerkey.Watch[leakCfg](ctx, sikkerkey.WithClient(r.c), sikkerkey.WithLogger(p.logger))
	if w != nil {
		_ = w.Close()
	}
	mustLoadError(t, p, "Watch", err, 1, nonNil(f.loadIs)...)

	reads := map[string]func() error{
		"GetSecret": func() error { _, err := r.c.GetSecret(ctx, "sk_api"); return err },
		"GetFields": func() error { _, err := r.c.GetFields(ctx, "sk_db"); return err },
		"GetField":  func() error { _, err := r.c.GetField(ctx, "sk_db", "password"); return err },
	}
	for name, read := range reads {
		f.inject(r)
		mustFail(t, p, name, read(), nonNil(f.sdkIs)...)
	}
	others := map[string]func() error{
		"ListSecrets":          func() error { _, err := r.c.ListSecrets(ctx); return err },
		"ListSecretsByProject": func() error { _, err := r.c.ListSecretsByProject(ctx, "prj"); return err },
		"ExportSecrets":        func() error { _, err := r.c.ExportSecrets(ctx, ""); return err },
		"Export":               func() error { _, err := r.c.Export(ctx, "prj"); return err },
		"Poll":                 func() error { _, err := r.c.Poll(ctx, []string{"sk_db", "sk_api"}); return err },
	}
	for _, read := range others {
		f.inject(r)
		p.err(read())
	}
}

func nonNil(errs ...error) []error {
	var out []error
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// leakWatch is a running Watcher whose callbacks feed the probe.
type leakWatch[T any] struct {
	w       *sikkerkey.Watcher[T]
	errs    chan error
	changes chan *T
}

func startLeakWatch[T any](t *testing.T, p *leakProbe, opts ...sikkerkey.Option) *leakWatch[T] {
	t.Helper()
	opts = append([]sikkerkey.Option{sikkerkey.WithPollInterval(10 * time.Millisecond), sikkerkey.WithLogger(p.logger)}, opts...)
	w, err := sikkerkey.Watch[T](context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	lw := &leakWatch[T]{w: w, errs: make(chan error, 1024), changes: make(chan *T, 1024)}
	w.OnChange(func(old, new *T) {
		p.config(old)
		p.config(new)
		select {
		case lw.changes <- new:
		default:
		}
	})
	w.OnError(func(err error) {
		p.err(err)
		select {
		case lw.errs <- err:
		default:
		}
	})
	p.config(w.Current())
	p.value(w) // printed when the row ends, after Close
	return lw
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newPEMKey returns a fresh Ed25519 key as PKCS#8 PEM, registering its
// material as needles in every form a dump could show it.
func newPEMKey(t *testing.T, p *leakProbe) (ed25519.PrivateKey, []byte) {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	seed := key.Seed()
	p.needle(hex.EncodeToString(seed))
	p.needle(base64.StdEncoding.EncodeToString(der)[:40])
	p.needle(base64.StdEncoding.EncodeToString(seed)[:20])
	p.needle(strings.Trim(fmt.Sprint(seed[:10]), "[]"))                         // as %v of a []byte shows it
	p.needle(strings.Trim(fmt.Sprintf("%#v", seed[:10])[len("[]byte"):], "{}")) // as %#v does
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// ---------------------------------------------------------------------------
// The rows.

type leakRow struct {
	name string
	// env rows change the process environment: they run alone, not in
	// parallel.
	env bool
	run func(t *testing.T, p *leakProbe)
}

func leakRows() []leakRow {
	rows := []leakRow{
		// Loader: decoding.
		{name: "load/every decode failure", run: func(t *testing.T, p *leakProbe) {
			c := p.canary
			values := map[string]string{
				"sk_int":     c(),
				"sk_int8":    "7531975319",
				"sk_uint":    "-7531975319",
				"sk_uint64":  "975319753197531975319",
				"sk_float":   c(),
				"sk_float32": "3.5e975319753",
				"sk_complex": c(),
				"sk_bool":    c(),
				"sk_dur":     c(),
				"sk_time":    c(),
				"sk_url":     "http://[" + c(),
				"sk_url2":    "http://host/%zz" + c(),
				"sk_addr":    c(),
				"sk_addr2":   "10.0.0." + c(),
				"sk_prefix":  c() + "/24",
				"sk_ip":      c(),
				"sk_echo":    c(),
				"sk_ints":    "1, " + c() + ", 3",
				"sk_durs":    "1s," + c(),
				"sk_addrs":   "10.0.0.1, ::1, " + c(),
				"sk_obj":     `{"a":"` + c() + `","hooked":"` + c() + `"}`,
				"sk_obj2":    `{"n":"` + c() + `","d":"` + c() + `"}`,
				"sk_obj3":    `{"port":"975319753197"}`,
			}
			for _, n := range []string{"7531975319", "975319753197531975319", "975319753", "975319753197"} {
				p.needle(n)
			}
			for _, withHook := range []bool{false, true} {
				opts := []sikkerkey.Option{sikkerkey.WithSources(source.Map(values)), sikkerkey.WithLogger(p.logger)}
				if withHook {
					opts = append(opts, sikkerkey.WithDecodeHook(leakHook))
				}
				var cfg leakDecodeAll
				err := sikkerkey.Load(context.Background(), &cfg, opts...)
				mustLoadError(t, p, fmt.Sprintf("Load (hook %v)", withHook), err, 30, sikkerkey.ErrDecode)
				p.config(cfg)
			}
		}},
		{name: "load/not structured and missing fields", run: func(t *testing.T, p *leakProbe) {
			type cfg struct {
				FromPlain   sikkerkey.Secret            `sikkerkey:"sk_plain,field=password"`
				FromBroken  sikkerkey.Secret            `sikkerkey:"sk_broken,field=password"`
				FromArray   leakDBFields                `sikkerkey:"sk_array"`
				MapOfPlain  map[string]sikkerkey.Secret `sikkerkey:"sk_plain"`
				Missing     sikkerkey.Secret            `sikkerkey:"sk_db,field=nope"`
				MissingAlso leakDBFields                `sikkerkey:"sk_db2"`
				Gone        sikkerkey.Secret            `sikkerkey:"sk_gone"`
			}
			values := map[string]string{
				"sk_plain":  p.canary(),
				"sk_broken": `{"password":"` + p.canary(),
				"sk_array":  `["` + p.canary() + `"]`,
				"sk_db":     `{"password":"` + p.canary() + `","token":"` + p.canary() + `"}`,
				"sk_db2":    `{"user":"` + p.canary() + `"}`,
			}
			var c cfg
			err := sikkerkey.Load(context.Background(), &c, sikkerkey.WithSources(source.Map(values)))
			mustLoadError(t, p, "Load", err, 8)
			for _, target := range []error{sikkerkey.ErrDecode, sdk.ErrSecretStructure, sikkerkey.ErrMissing, sdk.ErrFieldNotFound, sdk.ErrNotFound} {
				if !errors.Is(err, target) {
					t.Errorf("no failure matches %v", target)
				}
			}
			// Field names are listed, values are not.
			if err != nil && !strings.Contains(err.Error(), "password, token") {
				t.Errorf("the missing-field error does not list the fields:\n%v", err)
			}
			p.config(c)
		}},
		{name: "load/Validate returns a constant error", run: func(t *testing.T, p *leakProbe) {
			values := map[string]string{
				"sk_api":  p.canary() + "-reject",
				"sk_port": "1",
				"sk_db":   `{"host":"h","password":"` + p.canary() + `"}`,
			}
			var c leakValidated
			err := sikkerkey.Load(context.Background(), &c, sikkerkey.WithSources(source.Map(values)))
			mustFail(t, p, "Load", err, errLeakRejected)
			p.config(c)
			w, err := sikkerkey.Watch[leakValidated](context.Background(), sikkerkey.WithSources(source.Map(values)))
			if w != nil {
				_ = w.Close()
			}
			mustFail(t, p, "Watch", err, errLeakRejected)
		}},
		{name: "load/bad tags", run: func(t *testing.T, p *leakProbe) {
			var c leakBadTags
			err := sikkerkey.Load(context.Background(), &c, sikkerkey.WithSources(source.Map(map[string]string{
				"sk_a": p.canary(), "sk_db": `{"password":"` + p.canary() + `"}`,
			})))
			mustLoadError(t, p, "Load", err, 7, sikkerkey.ErrBadTag)
		}},
		{name: "load/bad default", run: func(t *testing.T, p *leakProbe) {
			type cfg struct {
				N int `sikkerkey:"sk_absent,default=LEAK-canary-default"`
			}
			var c cfg
			err := sikkerkey.Load(context.Background(), &c, sikkerkey.WithSources(source.Map(nil)))
			mustLoadError(t, p, "Load", err, 1, sikkerkey.ErrDecode)
		}},
		{name: "load/every secret shape dumps as redacted", run: func(t *testing.T, p *leakProbe) {
			values := map[string]string{
				"sk_api":  p.canary(),
				"sk_db":   `{"host":"db.internal","password":"` + p.canary() + `","token":"` + p.canary() + `"}`,
				"sk_list": p.canary() + "," + p.canary(),
				"sk_port": "8080",
			}
			var c leakDumpCfg
			if err := sikkerkey.Load(context.Background(), &c, sikkerkey.WithSources(source.Map(values))); err != nil {
				t.Fatal(err)
			}
			// The positive control: the secrets are really there.
			if !strings.HasPrefix(c.Embedded.Reveal(), canaryPrefix) || !strings.HasPrefix(c.PDB.Token.Reveal(), canaryPrefix) ||
				!strings.HasPrefix(c.Nested.Deep.Key.Reveal(), canaryPrefix) || len(c.List) != 2 || len(c.All) != 3 {
				t.Fatalf("not loaded: %+v", c)
			}
			p.config(c)
			p.config(&c)
			p.config(c.DB)
			p.config(c.All)
			p.config(c.List)
			p.config(c.PAPI)
		}},
		{name: "load/cancelled", run: func(t *testing.T, p *leakProbe) {
			r := newLeakRig(t, p)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var c leakCfg
			err := sikkerkey.Load(ctx, &c, sikkerkey.WithClient(r.c))
			mustFail(t, p, "Load", err, context.Canceled)
		}},

		// Sources.
		{name: "source/env lookup malformed", run: func(t *testing.T, p *leakProbe) {
			env := map[string]string{
				"SK_PORT":      p.canary(),
				"SK_DB":        `{"password":"` + p.canary(),
				"SK_OBJ_PORT":  p.canary(),
				"SK_API":       p.canary(),
				"SK_OBJ_TOKEN": p.canary(),
			}
			src := source.Env(source.EnvLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
			p.value(src)
			runEnvCfg(t, p, src)
		}},
		{name: "source/env process", env: true, run: func(t *testing.T, p *leakProbe) {
			t.Setenv("LEAKPROOF_SK_PORT", p.canary())
			t.Setenv("LEAKPROOF_SK_DB", `{"password":"`+p.canary())
			t.Setenv("LEAKPROOF_SK_OBJ_PORT", p.canary())
			t.Setenv("LEAKPROOF_SK_API", p.canary())
			t.Setenv("LEAKPROOF_SK_OBJ_TOKEN", p.canary())
			runEnvCfg(t, p, source.Env(source.EnvPrefix("LEAKPROOF_")))
		}},
		{name: "source/file malformed", run: func(t *testing.T, p *leakProbe) {
			dir := t.TempDir()
			contents := map[string]string{
				"invalid JSON":  `{"sk_api": "` + p.canary() + `", "sk_port": ` + p.canary() + `}`,
				"truncated":     `{"sk_api": "` + p.canary(),
				"not an object": `["` + p.canary() + `"]`,
				"a string":      `"` + p.canary() + `"`,
			}
			for name, content := range contents {
				path := filepath.Join(dir, "secrets.json")
				writeFile(t, path, content)
				var c leakReloadCfg
				err := sikkerkey.Load(context.Background(), &c, sikkerkey.WithSources(source.File(path)))
				mustLoadError(t, p, name, err, 3)
			}
			path := filepath.Join(dir, "typed.json")
			writeFile(t, path, `{"sk_api": "`+p.canary()+`", "sk_port": 7531975319753197531,
				"sk_db": {"host": {"deep": "`+p.canary()+`"}, "password": "`+p.canary()+`", "token": ["`+p.canary()+`"]}}`)
			p.needle("7531975319753197531")
			type typed struct {
				Key   sikkerkey.Secret `sikkerkey:"sk_api"`
				Port  int8             `sikkerkey:"sk_port"`
				Host  int              `sikkerkey:"sk_db,field=host"`
				Token []int            `sikkerkey:"sk_db,field=token"`
			}
			var c typed
			src := source.File(path)
			p.value(src)
			err := sikkerkey.Load(context.Background(), &c, sikkerkey.WithSources(src))
			mustLoadError(t, p, "bad types", err, 3, sikkerkey.ErrDecode)
			var c2 leakReloadCfg
			err = sikkerkey.Load(context.Background(), &c2, sikkerkey.WithSources(source.File(filepath.Join(dir, "missing.json"))))
			mustLoadError(t, p, "missing file", err, 3, os.ErrNotExist)
		}},
		{name: "source/dir malformed", run: func(t *testing.T, p *leakProbe) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "sk_port"), p.canary()+"\n")
			writeFile(t, filepath.Join(dir, "sk_db"), `{"host":"h","password":"`+p.canary())
			if err := os.Mkdir(filepath.Join(dir, "sk_api"), 0o700); err != nil { // unreadable as a file
				t.Fatal(err)
			}
			src := source.Dir(dir)
			p.value(src)
			var c leakReloadCfg
			err := sikkerkey.Load(context.Background(), &c, sikkerkey.WithSources(src))
			mustLoadError(t, p, "Load", err, 3, sikkerkey.ErrDecode, sdk.ErrSecretStructure)
			err = sikkerkey.Load(context.Background(), &c, sikkerkey.WithSources(source.Dir(filepath.Join(dir, "nope"))))
			mustLoadError(t, p, "missing dir", err, 3, os.ErrNotExist)
		}},
		{name: "source/values dump", run: func(t *testing.T, p *leakProbe) {
			m := map[string]string{"sk_api": p.canary(), "sk_db": `{"password":"` + p.canary() + `"}`}
			src := source.Map(m)
			p.value(src)
			var c leakReloadCfg
			err := sikkerkey.Load(context.Background(), &c, sikkerkey.WithSources(src))
			mustLoadError(t, p, "Load", err, 1, sikkerkey.ErrMissing)
		}},

		// sdk.
		{name: "sdk/not structured and missing field", run: func(t *testing.T, p *leakProbe) {
			r := newLeakRig(t, p)
			r.srv.PutSecret("sk_broken", "broken", "prj", `{"password":"`+p.canary())
			ctx := context.Background()
			_, err := r.c.GetFields(ctx, "sk_api")
			mustFail(t, p, "GetFields of a plain secret", err, sdk.ErrSecretStructure)
			_, err = r.c.GetField(ctx, "sk_broken", "password")
			mustFail(t, p, "GetField of a broken object", err, sdk.ErrSecretStructure)
			_, err = r.c.GetField(ctx, "sk_db", "nope")
			mustFail(t, p, "GetField of a missing field", err, sdk.ErrFieldNotFound)
			if err != nil && !strings.Contains(err.Error(), "host, password, token") {
				t.Errorf("the fields are not listed: %v", err)
			}
		}},
		{name: "sdk/invalid response bodies", run: func(t *testing.T, p *leakProbe) {
			c := p.canary()
			bodies := map[string]string{
				"/v1/secret/sk_truncated": `{"value":"` + c,
				"/v1/secret/sk_shape":     `{"value":{"nested":"` + c + `"}}`,
				"/v1/secret/sk_novalue":   `{"secret":"` + c + `"}`,
				"/v1/secret/sk_big":       `{"value":"` + strings.Repeat(c, (sdk.MaxResponseBytes+100)/len(c)) + `"}`,
				"/v1/secret/sk_html":      `<html>` + c + `</html>`,
				"/v1/secrets":             `{"secrets":{"id":"` + c + `"}}`,
				"/v1/secrets/list":        `{"secrets":[{"id":1,"value":"` + c + `"}]}`,
				"/v1/secrets/export":      `{"secrets":[{"id":"sk_a","value":{"x":"` + c + `"}}]}`,
				"/v1/secrets/poll":        `{"changes":["` + c + `"]}`,
			}
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(bodies[req.URL.Path]))
			}))
			t.Cleanup(ts.Close)
			key, _ := newPEMKey(t, p)
			client, err := sdk.NewFromKey(sdk.Identity{MachineID: "m", APIURL: ts.URL}, key, sdk.WithRetryBackoff(), sdk.WithLogger(p.logger))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = client.Close() })
			ctx := context.Background()
			for _, id := range []string{"sk_truncated", "sk_shape", "sk_novalue", "sk_big", "sk_html"} {
				_, err := client.GetSecret(ctx, id)
				mustFail(t, p, id, err, sdk.ErrInvalidResponse)
			}
			_, err = client.ListSecrets(ctx)
			mustFail(t, p, "ListSecrets", err, sdk.ErrInvalidResponse)
			_, err = client.ListSecretsByProject(ctx, "prj")
			mustFail(t, p, "ListSecretsByProject", err, sdk.ErrInvalidResponse)
			_, err = client.ExportSecrets(ctx, "")
			mustFail(t, p, "ExportSecrets", err, sdk.ErrInvalidResponse)
			_, err = client.Poll(ctx, []string{"sk_a"})
			mustFail(t, p, "Poll", err, sdk.ErrInvalidResponse)
			var cfg leakCfg
			err = sikkerkey.Load(ctx, &cfg, sikkerkey.WithClient(client))
			mustLoadError(t, p, "Load", err, 1, sdk.ErrInvalidResponse)
			p.value(client)
		}},
		{name: "sdk/retry logs", run: func(t *testing.T, p *leakProbe) {
			r := newLeakRig(t, p)
			r.srv.FailNext(503)
			r.srv.FailNextWithRetryAfter(429, time.Second)
			v, err := r.c.GetSecret(context.Background(), "sk_api")
			if err != nil || v != r.api {
				t.Fatalf("%q %v", v, err)
			}
			if !strings.Contains(p.textLog.String(), "retrying request") {
				t.Errorf("no retry logged:\n%s", p.textLog.String())
			}
		}},
		{name: "sdk/watch events and callback panic", run: func(t *testing.T, p *leakProbe) {
			r := newLeakRig(t, p)
			ctx := context.Background()
			if _, err := r.c.GetSecret(ctx, "sk_db"); err != nil { // the server's baseline
				t.Fatal(err)
			}
			events := make(chan sdk.WatchEvent, 100)
			err := r.c.Watch("sk_db", func(ev sdk.WatchEvent) {
				p.err(ev.Err)
				events <- sdk.WatchEvent{SecretID: ev.SecretID, Status: ev.Status, Err: ev.Err} // without the value
				if ev.Status == sdk.WatchChanged {
					panic("the callback got " + ev.Value)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			r.srv.FailNext(500)
			ev := waitFor(t, events, "a poll error", func(ev sdk.WatchEvent) bool { return ev.Status == sdk.WatchError })
			var apiErr *sdk.APIError
			if !errors.As(ev.Err, &apiErr) || apiErr.StatusCode != 500 {
				t.Errorf("%v", ev.Err)
			}
			r.srv.RotateFields("sk_db", map[string]string{"host": "h", "password": p.canary()})
			waitFor(t, events, "a change", func(ev sdk.WatchEvent) bool { return ev.Status == sdk.WatchChanged })
			r.srv.Delete("sk_db")
			waitFor(t, events, "the deletion", func(ev sdk.WatchEvent) bool { return ev.Status == sdk.WatchDeleted })
			_ = r.c.Close() // waits for the callback's log record
			if !strings.Contains(p.textLog.String(), "watch callback panicked") {
				t.Errorf("the panic was not logged:\n%s", p.textLog.String())
			}
		}},
		{name: "sdk/offline cache", run: func(t *testing.T, p *leakProbe) {
			dir := t.TempDir()
			fallbacks := make(chan string, 10)
			r := newLeakRig(t, p, sdk.WithCache(sdk.CacheOptions{Dir: dir, OnFallback: func(id string, _ time.Time) {
				fallbacks <- id
				panic("OnFallback panics with " + p.canary())
			}}))
			ctx := context.Background()
			for _, id := range []string{"sk_api", "sk_db"} {
				if _, err := r.c.GetSecret(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			// A corrupt entry whose garbage contains a secret.
			r.srv.PutSecret("sk_corrupt", "corrupt", "prj", p.canary())
			writeFile(t, filepath.Join(dir, "sk_corrupt.skc"), `{"v":1,"nonce":"`+p.canary()+`","ct":"`+p.canary()+`"}`)
			writeFile(t, filepath.Join(dir, "sk_corrupt2.skc"), p.canary())
			r.srv.PutSecret("sk_corrupt2", "corrupt", "prj", p.canary())
			r.srv.Seal()
			v, err := r.c.GetSecret(ctx, "sk_api")
			if err != nil || v != r.api {
				t.Fatalf("not served from the cache: %v", err)
			}
			if id := <-fallbacks; id != "sk_api" {
				t.Error(id)
			}
			for _, id := range []string{"sk_corrupt", "sk_corrupt2"} {
				_, err = r.c.GetSecret(ctx, id)
				mustFail(t, p, id, err, sdk.ErrServerSealed)
			}
			// Too old to be served.
			old, err := r.m.Client(sdk.WithLogger(p.logger), sdk.WithRetryBackoff(),
				sdk.WithCache(sdk.CacheOptions{Dir: dir, MaxAge: time.Nanosecond}))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = old.Close() })
			time.Sleep(2 * time.Millisecond) // older than MaxAge for sure
			_, err = old.GetFields(ctx, "sk_db")
			mustFail(t, p, "MaxAge", err, sdk.ErrServerSealed)
			for _, want := range []string{"serving the secret from the offline cache", "entry unusable", "older than MaxAge", "OnFallback panicked"} {
				if !strings.Contains(p.textLog.String(), want) {
					t.Errorf("no %q logged:\n%s", want, p.textLog.String())
				}
			}
			p.value(r.c)
		}},
		{name: "sdk/identity files", run: func(t *testing.T, p *leakProbe) {
			dir := t.TempDir()
			_, keyPEM := newPEMKey(t, p)
			idPath := filepath.Join(dir, "identity.json")
			keyPath := filepath.Join(dir, "private.pem")
			identity := func(machineID string) string {
				return `{"machineId":"` + machineID + `","vaultId":"vault_x","apiUrl":"http://127.0.0.1:1","privateKeyPath":"private.pem"}`
			}
			cases := []struct{ name, identity, key string }{
				{"identity not JSON", `{"machineId":"` + p.canary(), string(keyPEM)},
				{"identity of the wrong shape", `["` + p.canary() + `"]`, string(keyPEM)},
				{"no machine id", identity(""), string(keyPEM)},
				{"key not PEM", identity("m"), p.canary()},
				{"key PEM of garbage", identity("m"), "-----BEGIN PRIVATE KEY-----\n" +
					base64.StdEncoding.EncodeToString([]byte(p.canary())) + "\n-----END PRIVATE KEY-----\n"},
			}
			for _, c := range cases {
				writeFile(t, idPath, c.identity)
				writeFile(t, keyPath, c.key)
				_, err := sdk.New(idPath, sdk.WithLogger(p.logger))
				mustFail(t, p, c.name, err, sdk.ErrConfiguration)
				_, _, err = sdk.LoadIdentity(idPath, p.logger)
				mustFail(t, p, c.name+" (LoadIdentity)", err, sdk.ErrConfiguration)
			}
			// A good key readable by others: a warning, without the key.
			writeFile(t, idPath, identity("m"))
			writeFile(t, keyPath, string(keyPEM))
			if err := os.Chmod(keyPath, 0o644); err != nil {
				t.Fatal(err)
			}
			client, err := sdk.New(idPath, sdk.WithLogger(p.logger))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = client.Close() })
			if !strings.Contains(p.textLog.String(), "readable by group or others") {
				t.Errorf("no permission warning:\n%s", p.textLog.String())
			}
			p.value(client)
			p.value(client.Identity())
			_, err = sdk.ParsePrivateKey([]byte(p.canary()))
			mustFail(t, p, "ParsePrivateKey", err, sdk.ErrConfiguration)
		}},
		{name: "sdk/enrollment token", run: func(t *testing.T, p *leakProbe) {
			srv := sikkerkeytest.NewServer()
			t.Cleanup(srv.Close)
			ctx := context.Background()
			opts := []sdk.Option{sdk.WithAPIURL(srv.URL()), sdk.WithLogger(p.logger)}
			_, err := sdk.BootstrapInMemory(ctx, srv.VaultID(), p.canary(), opts...)
			mustFail(t, p, "unknown token", err, sdk.ErrAuthentication)
			_, err = sdk.BootstrapInMemory(ctx, "vault_other", p.canary(), opts...)
			mustFail(t, p, "unknown vault", err, sdk.ErrNotFound)
			token := srv.NewEnrollmentToken()
			p.needle(token)
			client, err := sdk.BootstrapInMemory(ctx, srv.VaultID(), token, opts...)
			if err != nil {
				t.Fatal(err)
			}
			p.value(client) // a client of an in-memory key
			_ = client.Close()
			_, err = sdk.BootstrapInMemory(ctx, srv.VaultID(), token, opts...)
			mustFail(t, p, "used token", err, sdk.ErrAuthentication)
		}},
		{name: "sdk/api url with credentials", run: func(t *testing.T, p *leakProbe) {
			key, _ := newPEMKey(t, p)
			for _, u := range []string{
				"https://user:" + p.canary() + "@api.example.com",
				"https://" + p.canary() + "@api.example.com",
				"http://user:" + p.canary() + "@api.example.com",
				"https://api.example.com/?token=" + p.canary(),
				"https://api.example.com/#" + p.canary(),
				"http://api.example.com/v1?key=" + p.canary(),
			} {
				_, err := sdk.NewFromKey(sdk.Identity{MachineID: "m", APIURL: u}, key)
				mustFail(t, p, u, err, sdk.ErrConfiguration)
				_, err = sdk.BootstrapInMemory(context.Background(), "vault_x", "token", sdk.WithAPIURL(u))
				mustFail(t, p, u+" (bootstrap)", err, sdk.ErrConfiguration)
			}
		}},

		// Hot reload.
		{name: "reload/bad values, Validate, hook and callback panics", run: func(t *testing.T, p *leakProbe) {
			r := newLeakRig(t, p)
			panicHook := mapstructure.DecodeHookFuncType(func(_, _ reflect.Type, data any) (any, error) {
				if s, ok := data.(string); ok && strings.HasSuffix(s, "-hookpanic") {
					panic("the decode hook saw " + s)
				}
				return data, nil
			})
			lw := startLeakWatch[leakValidated](t, p, sikkerkey.WithClient(r.c), sikkerkey.WithDecodeHook(panicHook))
			onChangePanics := lw.w.OnChange(func(_, new *leakValidated) {
				panic("OnChange saw " + new.Key.Reveal())
			})
			onErrorPanics := lw.w.OnError(func(err error) {
				panic(fmt.Sprintf("OnError saw %v and the key %s", err, lw.w.Current().Key.Reveal()))
			})

			r.srv.Rotate("sk_port", p.canary())
			lw.waitErr(t, "a decoding failure", isErr(sikkerkey.ErrDecode))
			r.srv.Rotate("sk_port", "7531975319753197531975")
			p.needle("7531975319753197531975")
			lw.waitErr(t, "an overflow", isErr(sikkerkey.ErrDecode))
			r.srv.Rotate("sk_port", "8081")
			r.srv.Rotate("sk_api", p.canary()+"-reject")
			lw.waitErr(t, "the rejection", isErr(errLeakRejected))
			r.srv.Rotate("sk_api", p.canary()+"-hookpanic")
			lw.waitErr(t, "the decode hook panic", mentions("(in Validate?)"))
			r.srv.Rotate("sk_api", p.canary()+"-panic")
			lw.waitErr(t, "the Validate panic", mentions("(in Validate?)"))
			r.srv.RotateFields("sk_db", map[string]string{"host": p.canary()})
			lw.waitErr(t, "a missing field", isErr(sdk.ErrFieldNotFound))
			r.srv.Rotate("sk_db", `{"password":"`+p.canary())
			lw.waitErr(t, "a broken object", isErr(sdk.ErrSecretStructure))

			r.srv.RotateFields("sk_db", map[string]string{"host": "h2", "password": p.canary()})
			r.srv.Rotate("sk_api", p.canary())
			lw.waitErr(t, "the OnChange panic", mentions("OnChange callback panicked"))
			lw.waitChange(t, "the good rotation", func(c *leakValidated) bool { return c.Port == 8081 && c.DB.Host == "h2" })
			onChangePanics()
			onErrorPanics()
			_ = lw.w.Close()
			for _, want := range []string{"OnChange callback panicked", "OnError callback panicked", "watch error"} {
				if !strings.Contains(p.textLog.String(), want) {
					t.Errorf("no %q logged", want)
				}
			}
		}},
		{name: "reload/deleted and revoked", run: func(t *testing.T, p *leakProbe) {
			r := newLeakRig(t, p)
			lw := startLeakWatch[leakReloadCfg](t, p, sikkerkey.WithClient(r.c))
			r.srv.Delete("sk_db")
			lw.waitErr(t, "the deletion", isErr(sdk.ErrNotFound))
			r.srv.PutFields("sk_db", "db", "prj", map[string]string{"host": "h", "password": p.canary()})
			lw.waitChange(t, "the secret back", func(c *leakReloadCfg) bool { return c.DB.Host == "h" })
			r.srv.Revoke(r.m.ID(), "sk_api")
			lw.waitErr(t, "the revocation", isErr(sdk.ErrAccessDenied))
			r.srv.Grant(r.m.ID(), "sk_api")
			r.srv.Rotate("sk_api", p.canary())
			lw.waitChange(t, "access back", func(c *leakReloadCfg) bool { return c.Key.Reveal() != r.api })
			err := lw.w.Refresh(context.Background())
			p.err(err)
		}},
		{name: "reload/poll failures", run: func(t *testing.T, p *leakProbe) {
			r := newLeakRig(t, p)
			lw := startLeakWatch[leakReloadCfg](t, p, sikkerkey.WithClient(r.c))
			r.srv.FailNext(500)
			lw.waitErr(t, "HTTP 500", mentions("HTTP 500"))
			failNext(502, 3)(r)
			lw.waitErr(t, "HTTP 502", isErr(sdk.ErrUnavailable))
			r.srv.DropNext(3)
			lw.waitErr(t, "a dropped poll", isErr(sdk.ErrUnavailable))
			r.srv.Seal()
			lw.waitErr(t, "a sealed vault", isErr(sdk.ErrServerSealed))
			mustFail(t, p, "Refresh while sealed", lw.w.Refresh(context.Background()), sdk.ErrServerSealed)
			r.srv.Unseal()
			for range 3 {
				r.srv.FailNextWithRetryAfter(429, time.Second)
			}
			lw.waitErr(t, "a rate limit", isErr(sdk.ErrRateLimited))
			r.srv.Rotate("sk_api", p.canary())
			lw.waitChange(t, "a rotation after the failures", func(c *leakReloadCfg) bool { return c.Key.Reveal() != r.api })
		}},
		{name: "reload/offline cache", run: func(t *testing.T, p *leakProbe) {
			r := newLeakRig(t, p)
			path, err := r.m.WriteIdentity(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			lw := startLeakWatch[leakReloadCfg](t, p,
				sikkerkey.WithVault(path),
				sikkerkey.WithClientOptions(sdk.WithRetryBackoff(time.Millisecond), sdk.WithMinPollInterval(5*time.Millisecond)),
				sikkerkey.WithCache(sdk.CacheOptions{Dir: t.TempDir(), OnFallback: func(string, time.Time) {
					panic("OnFallback panics with " + p.canary())
				}}))
			r.srv.Seal()
			if err := lw.w.Refresh(context.Background()); err != nil {
				t.Fatalf("Refresh while sealed, with the cache: %v", err)
			}
			lw.waitErr(t, "the fallback", isErr(sikkerkey.ErrServedFromCache))
			r.srv.Unseal()
			r.srv.Rotate("sk_api", p.canary())
			lw.waitChange(t, "a rotation", func(c *leakReloadCfg) bool { return c.Key.Reveal() != r.api })
			_ = lw.w.Close()
			for _, want := range []string{"serving the secret from the offline cache", "OnFallback panicked"} {
				if !strings.Contains(p.textLog.String(), want) {
					t.Errorf("no %q logged", want)
				}
			}
		}},
		{name: "reload/file and dir", run: func(t *testing.T, p *leakProbe) {
			dir := t.TempDir()
			file := filepath.Join(dir, "secrets.json")
			good := func() string {
				return `{"sk_api": "` + p.canary() + `", "sk_port": 1, "sk_db": {"host": "h", "password": "` + p.canary() + `"}}`
			}
			writeFile(t, file, good())
			lw := startLeakWatch[leakReloadCfg](t, p, sikkerkey.WithSources(source.File(file, source.Debounce(5*time.Millisecond))))
			writeFile(t, file, `{"sk_api": "`+p.canary()+`", "sk_port": `)
			lw.waitErr(t, "invalid JSON", mentions("not valid JSON"))
			writeFile(t, file, `{"sk_api": "`+p.canary()+`", "sk_port": "`+p.canary()+`", "sk_db": {"host": "h", "password": "x"}}`)
			lw.waitErr(t, "a bad port", isErr(sikkerkey.ErrDecode))
			writeFile(t, file, good())
			lw.waitChange(t, "a good file", func(*leakReloadCfg) bool { return true })

			sdir := filepath.Join(dir, "secrets")
			if err := os.Mkdir(sdir, 0o700); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(sdir, "sk_api"), p.canary())
			writeFile(t, filepath.Join(sdir, "sk_port"), "1")
			writeFile(t, filepath.Join(sdir, "sk_db"), `{"host":"h","password":"`+p.canary()+`"}`)
			dw := startLeakWatch[leakReloadCfg](t, p, sikkerkey.WithSources(source.Dir(sdir, source.Debounce(5*time.Millisecond))))
			writeFile(t, filepath.Join(sdir, "sk_port"), p.canary())
			dw.waitErr(t, "a bad port", isErr(sikkerkey.ErrDecode))
			writeFile(t, filepath.Join(sdir, "sk_db"), `{"host":"h","password":"`+p.canary())
			dw.waitErr(t, "a broken object", isErr(sdk.ErrSecretStructure))
			if err := os.Remove(filepath.Join(sdir, "sk_api")); err != nil {
				t.Fatal(err)
			}
			dw.waitErr(t, "a deleted file", isErr(sikkerkey.ErrMissing))
		}},
		{name: "reload/rotations dump as redacted", run: func(t *testing.T, p *leakProbe) {
			r := newLeakRig(t, p)
			lw := startLeakWatch[leakDumpCfg](t, p, sikkerkey.WithClient(r.c))
			for i := range 3 {
				r.srv.RotateFields("sk_db", map[string]string{"host": fmt.Sprint("h", i), "password": p.canary(), "token": p.canary()})
				r.srv.Rotate("sk_list", p.canary()+","+p.canary()+","+p.canary())
				lw.waitChange(t, "a rotation", func(c *leakDumpCfg) bool { return c.DB.Host == fmt.Sprint("h", i) && len(c.List) == 3 })
			}
			p.config(lw.w.Current())
		}},
	}
	for _, f := range leakFaults {
		rows = append(rows, leakRow{name: "sikkerkey fault/" + f.name, run: func(t *testing.T, p *leakProbe) { runFault(t, p, f) }})
	}
	return rows
}

func (lw *leakWatch[T]) waitErr(t *testing.T, what string, match func(error) bool) error {
	t.Helper()
	return waitFor(t, lw.errs, what, match)
}

func (lw *leakWatch[T]) waitChange(t *testing.T, what string, match func(*T) bool) *T {
	t.Helper()
	return waitFor(t, lw.changes, what, match)
}

// runEnvCfg loads a configuration whose variables are malformed.
func runEnvCfg(t *testing.T, p *leakProbe, src source.Source) {
	t.Helper()
	type cfg struct {
		Port    int              `sikkerkey:"sk_port"`
		Pass    sikkerkey.Secret `sikkerkey:"sk_db,field=password"`
		ObjPort int              `sikkerkey:"sk_obj,field=port"`
		Token   sikkerkey.Secret `sikkerkey:"sk_obj,field=token"`
		API     sikkerkey.Secret `sikkerkey:"sk_api"`
	}
	var c cfg
	err := sikkerkey.Load(context.Background(), &c, sikkerkey.WithSources(src))
	mustLoadError(t, p, "Load", err, 3, sikkerkey.ErrDecode, sdk.ErrSecretStructure)
}

// TestLeakProof runs every row with its own probe. Rows run in parallel,
// except those that set process environment variables, which run first and
// alone.
func TestLeakProof(t *testing.T) {
	for _, row := range leakRows() {
		t.Run(row.name, func(t *testing.T) {
			if !row.env {
				t.Parallel()
			}
			row.run(t, newLeakProbe(t))
		})
	}
}

// TestVetAccepts pins vetAccepts to verdicts of go vet itself (checked with
// go vet on the same types), so that the suite never skips a verb vet lets
// through.
func TestVetAccepts(t *testing.T) {
	t.Parallel()
	type strs struct {
		DB   leakDBFields
		All  map[string]sikkerkey.Secret
		List []sikkerkey.Secret
		P    *sikkerkey.Secret
	}
	type withPtr struct {
		Port int
		P    *leakDBFields
	}
	cases := []struct {
		t     reflect.Type
		verbs string
		want  bool
	}{
		{reflect.TypeFor[strs](), "sqxXv", true},
		{reflect.TypeFor[*strs](), "sqxXv", true},
		{reflect.TypeFor[strs](), "d", false},
		{reflect.TypeFor[withPtr](), "sqxXd", false},
		{reflect.TypeFor[*withPtr](), "x", false},
		{reflect.TypeFor[withPtr](), "v", true},
		{reflect.TypeFor[sikkerkey.Secret](), "sqxXdv", true},
		{reflect.TypeFor[*sikkerkey.Watcher[leakCfg]](), "s", false},
	}
	for _, c := range cases {
		for _, verb := range c.verbs {
			if got := vetAccepts(c.t, verb, true); got != c.want {
				t.Errorf("vetAccepts(%v, %%%c) = %v, go vet says %v", c.t, verb, got, c.want)
			}
		}
	}
}
