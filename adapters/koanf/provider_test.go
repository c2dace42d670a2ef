package sikkerkeykoanf_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knadh/koanf/v2"
	sikkerkeykoanf "github.com/sikkerkey-go/sikkerkey/adapters/koanf"
	"github.com/sikkerkey-go/sikkerkey/sdk"
)

func TestReadShape(t *testing.T) {
	f := newFixture(t)
	f.srv.PutSecret("sk_spaced", "Spaced", "", "  {\"n\": 1, \"ok\": true, \"nil\": null, \"obj\": {\"a\": [1, 2]}}")
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_db_prod", "sk_api_key", "sk_list", "sk_spaced"},
		sikkerkeykoanf.Rename("sk_db_prod", "database"),
		sikkerkeykoanf.Rename("sk_api_key", "api.key"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Read()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"database": map[string]any{"host": "db.internal", "port": "5432", "password": "hunter2-db", "timeout": "5s"},
		"api":      map[string]any{"key": "k-123-secret"},
		"sk_list":  `["a","b"]`,
		"sk_spaced": map[string]any{
			"n": "1", "ok": "true", "nil": "", "obj": `{"a":[1,2]}`,
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Read() =\n%#v\nwant\n%#v", got, want)
	}
}

func TestReadIsOneBatchFetch(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_db_prod", "sk_api_key", "sk_list"})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.ResetRequests()
	if _, err := p.Read(); err != nil {
		t.Fatal(err)
	}
	if n := len(f.srv.Requests()); n != 1 {
		t.Fatalf("Read of 3 secrets made %d requests, want 1 export", n)
	}
	if _, exports, _ := f.count(); exports != 1 {
		t.Fatalf("Read of 3 secrets made %d exports, want 1", exports)
	}

	// One or two secrets are read in parallel, without an export.
	p2, err := sikkerkeykoanf.New(f.client, []string{"sk_db_prod", "sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.ResetRequests()
	if _, err := p2.Read(); err != nil {
		t.Fatal(err)
	}
	if gets, exports, _ := f.count(); gets != 2 || exports != 0 {
		t.Fatalf("Read of 2 secrets made %d reads and %d exports, want 2 and 0", gets, exports)
	}
}

func TestReadMissingSecret(t *testing.T) {
	f := newFixture(t)
	for _, ids := range [][]string{
		{"sk_missing"},
		{"sk_db_prod", "sk_missing"},
		{"sk_db_prod", "sk_api_key", "sk_missing", "sk_gone"},
	} {
		p, err := sikkerkeykoanf.New(f.client, ids)
		if err != nil {
			t.Fatal(err)
		}
		m, err := p.Read()
		if err == nil {
			t.Fatalf("%v: Read() = %v, want an error", ids, m)
		}
		if !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("%v: error %q does not match sdk.ErrNotFound", ids, err)
		}
		if !strings.Contains(err.Error(), "sk_missing") {
			t.Errorf("%v: error %q does not name sk_missing", ids, err)
		}
		for _, secret := range []string{"hunter2-db", "k-123-secret", "db.internal"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%v: error %q contains a secret value", ids, err)
			}
		}
	}
}

func TestReadAccessDenied(t *testing.T) {
	f := newFixture(t)
	m := f.srv.AddMachine("other")
	client, err := m.Client(sdk.WithRetryBackoff())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	f.srv.Revoke(m.ID(), "sk_api_key")
	p, err := sikkerkeykoanf.New(client, []string{"sk_db_prod", "sk_api_key", "sk_list"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Read()
	if !errors.Is(err, sdk.ErrAccessDenied) || !strings.Contains(err.Error(), "sk_api_key") {
		t.Fatalf("Read() error = %v, want access denied naming sk_api_key", err)
	}
	if strings.Contains(err.Error(), "not found") {
		t.Fatalf("Read() error = %q also reports a missing secret", err)
	}
}

func TestReadReturnsFreshMaps(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_db_prod", "sk_api_key"},
		sikkerkeykoanf.Rename("sk_db_prod", "database"))
	if err != nil {
		t.Fatal(err)
	}
	first, err := p.Read()
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]any{"host": "db.internal", "port": "5432", "password": "hunter2-db", "timeout": "5s"}

	second, err := p.Read()
	if err != nil {
		t.Fatal(err)
	}
	// Changing what a later Read returned must not touch an earlier result.
	second["database"].(map[string]any)["host"] = "changed"
	delete(second, "sk_api_key")
	if !reflect.DeepEqual(first["database"], keep) || first["sk_api_key"] != "k-123-secret" {
		t.Fatalf("an earlier Read result changed: %v", first)
	}
	third, err := p.Read()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(third, first) {
		t.Fatalf("Read after changing a result = %v, want %v", third, first)
	}
}

func TestReadTimeout(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_api_key"}, sikkerkeykoanf.WithTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	f.srv.DelayNext(2 * time.Second)
	start := time.Now()
	if _, err := p.Read(); err == nil {
		t.Fatal("Read() succeeded past its timeout")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Read() took %v with a 50ms timeout", d)
	}
}

func TestReadContext(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_api_key"}, sikkerkeykoanf.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read() with a cancelled context: %v, want context.Canceled", err)
	}
	if err := p.Watch(func(any, error) {}); err == nil {
		t.Fatal("Watch with a cancelled context succeeded")
	}
}

// nopParser is a koanf.Parser, to make koanf call ReadBytes.
type nopParser struct{}

func (nopParser) Unmarshal([]byte) (map[string]any, error) { return map[string]any{}, nil }
func (nopParser) Marshal(map[string]any) ([]byte, error)   { return nil, nil }

func TestReadBytesNotSupported(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := p.ReadBytes(); b != nil || !errors.Is(err, sikkerkeykoanf.ErrNotSupported) {
		t.Fatalf("ReadBytes() = %v, %v; want nil, ErrNotSupported", b, err)
	}
	if !strings.Contains(sikkerkeykoanf.ErrNotSupported.Error(), "does not support this method") {
		t.Fatalf("ErrNotSupported = %q, want koanf's usual wording", sikkerkeykoanf.ErrNotSupported)
	}
	if err := koanf.New(".").Load(p, nopParser{}); !errors.Is(err, sikkerkeykoanf.ErrNotSupported) {
		t.Fatalf("Load with a parser: %v, want ErrNotSupported", err)
	}
}

type dbConfig struct {
	Host     string        `koanf:"host"`
	Port     int           `koanf:"port"`
	Password string        `koanf:"password"`
	Timeout  time.Duration `koanf:"timeout"`
}

type appConfig struct {
	Name     string   `koanf:"name"`
	Database dbConfig `koanf:"database"`
	API      struct {
		Key string `koanf:"key"`
	} `koanf:"api"`
}

func TestKoanfLoadAndUnmarshal(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_db_prod", "sk_api_key"},
		sikkerkeykoanf.Rename("sk_db_prod", "database"),
		sikkerkeykoanf.Rename("sk_api_key", "api.key"))
	if err != nil {
		t.Fatal(err)
	}
	k := koanf.New(".")
	if err := k.Set("name", "billing"); err != nil {
		t.Fatal(err)
	}
	if err := k.Load(p, nil); err != nil {
		t.Fatal(err)
	}
	if got := k.String("database.host"); got != "db.internal" {
		t.Errorf("database.host = %q", got)
	}
	if got := k.Int("database.port"); got != 5432 {
		t.Errorf("database.port = %d", got)
	}
	if got := k.String("api.key"); got != "k-123-secret" {
		t.Errorf("api.key = %q", got)
	}
	var cfg appConfig
	if err := k.Unmarshal("", &cfg); err != nil {
		t.Fatal(err)
	}
	want := appConfig{Name: "billing", Database: dbConfig{Host: "db.internal", Port: 5432, Password: "hunter2-db", Timeout: 5 * time.Second}}
	want.API.Key = "k-123-secret"
	if cfg != want {
		t.Fatalf("Unmarshal = %+v, want %+v", cfg, want)
	}

	// A custom delimiter splits Rename keys.
	p2, err := sikkerkeykoanf.New(f.client, []string{"sk_api_key"},
		sikkerkeykoanf.WithDelim("/"), sikkerkeykoanf.Rename("sk_api_key", "api/key.v1"))
	if err != nil {
		t.Fatal(err)
	}
	k2 := koanf.New("/")
	if err := k2.Load(p2, nil); err != nil {
		t.Fatal(err)
	}
	if got := k2.String("api/key.v1"); got != "k-123-secret" {
		t.Errorf("api/key.v1 = %q", got)
	}
}

// nilContext is a nil context.Context, to test that WithContext rejects it.
var nilContext context.Context

func TestNewErrors(t *testing.T) {
	f := newFixture(t)
	for name, tc := range map[string]struct {
		client *sdk.Client
		ids    []string
		opts   []sikkerkeykoanf.Option
		want   string
	}{
		"nil client":     {nil, []string{"sk_a"}, nil, "client is required"},
		"no ids":         {f.client, nil, nil, "no secret ids"},
		"invalid id":     {f.client, []string{"sk a"}, nil, `invalid secret id "sk a"`},
		"rename unknown": {f.client, []string{"sk_a"}, []sikkerkeykoanf.Option{sikkerkeykoanf.Rename("sk_b", "b")}, "not one of the secret ids"},
		"rename twice": {f.client, []string{"sk_a"}, []sikkerkeykoanf.Option{
			sikkerkeykoanf.Rename("sk_a", "a"), sikkerkeykoanf.Rename("sk_a", "b")}, "given twice"},
		"empty key":       {f.client, []string{"sk_a"}, []sikkerkeykoanf.Option{sikkerkeykoanf.Rename("sk_a", "")}, "must be non-empty"},
		"empty key part":  {f.client, []string{"sk_a"}, []sikkerkeykoanf.Option{sikkerkeykoanf.Rename("sk_a", "a..b")}, "no empty part"},
		"same key":        {f.client, []string{"sk_a", "b"}, []sikkerkeykoanf.Option{sikkerkeykoanf.Rename("sk_a", "b")}, `stored under the key "b"`},
		"key inside key":  {f.client, []string{"sk_a", "sk_b"}, []sikkerkeykoanf.Option{sikkerkeykoanf.Rename("sk_a", "db"), sikkerkeykoanf.Rename("sk_b", "db.replica")}, `stored under the key "db"`},
		"negative time":   {f.client, []string{"sk_a"}, []sikkerkeykoanf.Option{sikkerkeykoanf.WithTimeout(-1)}, "must not be negative"},
		"empty delimiter": {f.client, []string{"sk_a"}, []sikkerkeykoanf.Option{sikkerkeykoanf.WithDelim("")}, "delimiter"},
		"nil context":     {f.client, []string{"sk_a"}, []sikkerkeykoanf.Option{sikkerkeykoanf.WithContext(nilContext)}, "WithContext(nil)"},
	} {
		p, err := sikkerkeykoanf.New(tc.client, tc.ids, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New() = %v, %v; want an error containing %q", name, p, err, tc.want)
		}
	}
	// Duplicate ids are read once.
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_api_key", "sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := p.Read(); err != nil || len(m) != 1 {
		t.Fatalf("Read() = %v, %v", m, err)
	}
}

func TestWatchSeesRotation(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_db_prod", "sk_api_key"},
		sikkerkeykoanf.Rename("sk_db_prod", "database"))
	if err != nil {
		t.Fatal(err)
	}
	k := koanf.New(".")
	if err := k.Load(p, nil); err != nil {
		t.Fatal(err)
	}
	cb, events := recorder()
	if err := p.Watch(cb); err != nil {
		t.Fatal(err)
	}
	defer p.Unwatch()

	f.srv.RotateFields("sk_db_prod", map[string]string{"host": "db2.internal", "port": "5433", "password": "new-pw", "timeout": "5s"})
	if e := next(t, events); e.ev != nil || e.err != nil {
		t.Fatalf("callback (%v, %v), want (nil, nil)", e.ev, e.err)
	}
	fresh := koanf.New(".")
	if err := fresh.Load(p, nil); err != nil {
		t.Fatal(err)
	}
	if got := fresh.String("database.host"); got != "db2.internal" {
		t.Fatalf("after rotation database.host = %q", got)
	}
	if got := k.String("database.host"); got != "db.internal" {
		t.Fatalf("the first instance changed: database.host = %q", got)
	}
}

func TestWatchCoalescesARound(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_db_prod", "sk_api_key", "sk_list"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(); err != nil {
		t.Fatal(err)
	}
	cb, events := recorder()
	if err := p.Watch(cb); err != nil {
		t.Fatal(err)
	}
	defer p.Unwatch()
	f.srv.Rotate("sk_api_key", "k-456")
	f.srv.Rotate("sk_list", "[]")
	if e := next(t, events); e.err != nil {
		t.Fatal(e.err)
	}
	quiet(t, events, 300*time.Millisecond)
}

func TestWatchTwice(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(); err != nil {
		t.Fatal(err)
	}
	if err := p.Watch(nil); err == nil {
		t.Fatal("Watch(nil) succeeded")
	}
	if err := p.Watch(func(any, error) {}); err != nil {
		t.Fatal(err)
	}
	if err := p.Watch(func(any, error) {}); !errors.Is(err, sikkerkeykoanf.ErrAlreadyWatched) {
		t.Fatalf("second Watch: %v, want ErrAlreadyWatched", err)
	}
	if err := p.Unwatch(); err != nil {
		t.Fatal(err)
	}
	if err := p.Unwatch(); err != nil {
		t.Fatalf("second Unwatch: %v", err)
	}
	// After Unwatch the provider can watch again.
	cb, events := recorder()
	if err := p.Watch(cb); err != nil {
		t.Fatal(err)
	}
	defer p.Unwatch()
	f.srv.Rotate("sk_api_key", "k-456")
	if e := next(t, events); e.err != nil {
		t.Fatal(e.err)
	}
}

func TestUnwatchStopsPolling(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_db_prod", "sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	cb, events := recorder()
	if err := p.Watch(cb); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, _, polls := f.count(); polls == 0 {
		t.Fatal("no poll while watching")
	}
	if err := p.Unwatch(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // a poll in flight may still land
	_, _, before := f.count()
	f.srv.Rotate("sk_api_key", "k-456")
	time.Sleep(200 * time.Millisecond)
	if _, _, after := f.count(); after != before {
		t.Fatalf("%d polls after Unwatch", after-before)
	}
	quiet(t, events, 0)
}

func TestWatchPollRequestsAreBatched(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_db_prod", "sk_api_key", "sk_list"})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.ResetRequests()
	if err := p.Watch(func(any, error) {}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if err := p.Unwatch(); err != nil {
		t.Fatal(err)
	}
	// Three watched secrets, one poll request per 20 ms interval.
	if _, _, polls := f.count(); polls == 0 || polls > 8 {
		t.Fatalf("%d poll requests in 150ms at a 20ms interval for 3 secrets", polls)
	}
}

func TestWatchDeletedSecretEndsWatch(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_db_prod", "sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(); err != nil {
		t.Fatal(err)
	}
	cb, events := recorder()
	if err := p.Watch(cb); err != nil {
		t.Fatal(err)
	}
	defer p.Unwatch()
	f.srv.Delete("sk_api_key")
	e := next(t, events)
	if !errors.Is(e.err, sdk.ErrNotFound) || !strings.Contains(e.err.Error(), "sk_api_key") {
		t.Fatalf("callback error %v, want a deleted error naming sk_api_key", e.err)
	}
	if strings.Contains(e.err.Error(), "k-123-secret") {
		t.Fatalf("callback error %q contains the value", e.err)
	}
	// The watch is over: no more callbacks, and Watch may be called again.
	f.srv.RotateFields("sk_db_prod", map[string]string{"host": "x"})
	quiet(t, events, 200*time.Millisecond)
	if err := p.Watch(cb); err != nil {
		t.Fatalf("Watch after the watch ended: %v", err)
	}
}

func TestWatchAccessDenied(t *testing.T) {
	f := newFixture(t)
	m := f.srv.AddMachine("other")
	client, err := m.Client(sdk.WithMinPollInterval(10*time.Millisecond), sdk.WithPollInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	p, err := sikkerkeykoanf.New(client, []string{"sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(); err != nil {
		t.Fatal(err)
	}
	// Watch again from the final callback: allowed.
	events := make(chan event, 10)
	var cb func(any, error)
	cb = func(ev any, err error) {
		events <- event{ev, err}
		if err != nil {
			events <- event{nil, p.Watch(cb)}
		}
	}
	if err := p.Watch(cb); err != nil {
		t.Fatal(err)
	}
	defer p.Unwatch()
	f.srv.Revoke(m.ID(), "sk_api_key")
	if e := next(t, events); !errors.Is(e.err, sdk.ErrAccessDenied) {
		t.Fatalf("callback error %v, want access denied", e.err)
	}
	if e := next(t, events); e.err != nil {
		t.Fatalf("Watch from the final callback: %v", e.err)
	}
}

func TestWatchPollErrorKeepsWatching(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_db_prod", "sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(); err != nil {
		t.Fatal(err)
	}
	cb, events := recorder()
	if err := p.Watch(cb); err != nil {
		t.Fatal(err)
	}
	defer p.Unwatch()
	f.srv.FailNext(500)
	e := next(t, events)
	if e.err == nil || errors.Is(e.err, sdk.ErrNotFound) {
		t.Fatalf("callback (%v, %v), want a poll error", e.ev, e.err)
	}
	// One failed poll of two secrets is one callback.
	f.srv.Rotate("sk_api_key", "k-456")
	if e := next(t, events); e.err != nil {
		t.Fatalf("after a poll error: callback error %v, want the rotation", e.err)
	}
}

func TestUnwatchFromCallback(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	if err := p.Watch(func(any, error) { done <- p.Unwatch() }); err != nil {
		t.Fatal(err)
	}
	f.srv.Rotate("sk_api_key", "k-456")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Unwatch from the callback did not return")
	}
	if err := p.Unwatch(); err != nil {
		t.Fatal(err)
	}
}

func TestUnwatchWaitsForCallback(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(); err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	var mu sync.Mutex
	finished := false
	if err := p.Watch(func(any, error) {
		close(entered)
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		finished = true
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	f.srv.Rotate("sk_api_key", "k-456")
	<-entered
	if err := p.Unwatch(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !finished {
		t.Fatal("Unwatch returned while the callback was running")
	}
}

func TestWatchEndsWithContext(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_api_key"}, sikkerkeykoanf.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	cb, events := recorder()
	if err := p.Watch(cb); err != nil {
		t.Fatal(err)
	}
	defer p.Unwatch()
	time.Sleep(50 * time.Millisecond)
	cancel()
	time.Sleep(100 * time.Millisecond)
	_, _, before := f.count()
	f.srv.Rotate("sk_api_key", "k-456")
	time.Sleep(150 * time.Millisecond)
	if _, _, after := f.count(); after != before {
		t.Fatalf("%d polls after the context was cancelled", after-before)
	}
	quiet(t, events, 0)
}

func TestWatchOnClosedClient(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_api_key", "sk_list"})
	if err != nil {
		t.Fatal(err)
	}
	_ = f.client.Close()
	if err := p.Watch(func(any, error) {}); !errors.Is(err, sdk.ErrClosed) {
		t.Fatalf("Watch on a closed client: %v, want sdk.ErrClosed", err)
	}
	if err := p.Unwatch(); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentReadsWhileWatching(t *testing.T) {
	f := newFixture(t)
	p, err := sikkerkeykoanf.New(f.client, []string{"sk_db_prod", "sk_api_key", "sk_list"})
	if err != nil {
		t.Fatal(err)
	}
	cb, events := recorder()
	if err := p.Watch(cb); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if _, err := p.Read(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	f.srv.Rotate("sk_api_key", "k-456")
	wg.Wait()
	if err := p.Unwatch(); err != nil {
		t.Fatal(err)
	}
	for len(events) > 0 {
		if e := <-events; e.err != nil {
			t.Fatal(e.err)
		}
	}
}
