package sikkerkeykoanf_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knadh/koanf/v2"
	"github.com/sikkerkey-go/sikkerkey/adapters/internal/adapt/adapttest"
	sikkerkeykoanf "github.com/sikkerkey-go/sikkerkey/adapters/koanf"
	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// Read returns what the shared fetch returns (tested in
// adapters/internal/adapt), its errors prefixed with the package name.
func TestReadError(t *testing.T) {
	f := adapttest.NewFixture(t)
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_db_prod", "sk_missing"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.Read()
	if m != nil || !errors.Is(err, sdk.ErrNotFound) || !strings.HasPrefix(err.Error(), "sikkerkeykoanf: ") || !strings.Contains(err.Error(), "sk_missing") {
		t.Fatalf("Read() = %v, %v; want a prefixed not-found error naming sk_missing", m, err)
	}
}

func TestReadContext(t *testing.T) {
	f := adapttest.NewFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_api_key"}, sikkerkeykoanf.WithContext(ctx))
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
	f := adapttest.NewFixture(t)
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_api_key"})
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
	f := adapttest.NewFixture(t)
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_db_prod", "sk_api_key"},
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
	p2, err := sikkerkeykoanf.New(f.Client, []string{"sk_api_key"},
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

// New's checks are the shared set's (tested in adapters/internal/adapt):
// each option reaches them, and their errors are prefixed.
func TestNewErrors(t *testing.T) {
	f := adapttest.NewFixture(t)
	for name, tc := range map[string]struct {
		client *sdk.Client
		opts   []sikkerkeykoanf.Option
		want   string
	}{
		"nil client":   {nil, nil, "client is required"},
		"Rename":       {f.Client, []sikkerkeykoanf.Option{sikkerkeykoanf.Rename("sk_a", "a"), sikkerkeykoanf.Rename("sk_a", "b")}, "given twice"},
		"WithTimeout":  {f.Client, []sikkerkeykoanf.Option{sikkerkeykoanf.WithTimeout(-1)}, "must not be negative"},
		"WithDelim":    {f.Client, []sikkerkeykoanf.Option{sikkerkeykoanf.WithDelim("")}, "delimiter"},
		"WithContext":  {f.Client, []sikkerkeykoanf.Option{sikkerkeykoanf.WithContext(nilContext)}, "WithContext(nil)"},
		"Rename + key": {f.Client, []sikkerkeykoanf.Option{sikkerkeykoanf.Rename("sk_a", "a..b")}, "no empty part"},
	} {
		p, err := sikkerkeykoanf.New(tc.client, []string{"sk_a"}, tc.opts...)
		if err == nil || !strings.HasPrefix(err.Error(), "sikkerkeykoanf: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New() = %v, %v; want an error starting sikkerkeykoanf: and containing %q", name, p, err, tc.want)
		}
	}
}

func TestWatchSeesRotation(t *testing.T) {
	f := adapttest.NewFixture(t)
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_db_prod", "sk_api_key"},
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

	f.Srv.RotateFields("sk_db_prod", map[string]string{"host": "db2.internal", "port": "5433", "password": "new-pw", "timeout": "5s"})
	if e := adapttest.Receive(t, events); e.ev != nil || e.err != nil {
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

func TestWatchTwice(t *testing.T) {
	f := adapttest.NewFixture(t)
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_api_key"})
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
	f.Srv.Rotate("sk_api_key", "k-456")
	if e := adapttest.Receive(t, events); e.err != nil {
		t.Fatal(e.err)
	}
}

func TestUnwatchStopsPolling(t *testing.T) {
	f := adapttest.NewFixture(t)
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_db_prod", "sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	cb, events := recorder()
	if err := p.Watch(cb); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, _, polls := f.Count(); polls == 0 {
		t.Fatal("no poll while watching")
	}
	if err := p.Unwatch(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // a poll in flight may still land
	_, _, before := f.Count()
	f.Srv.Rotate("sk_api_key", "k-456")
	time.Sleep(200 * time.Millisecond)
	if _, _, after := f.Count(); after != before {
		t.Fatalf("%d polls after Unwatch", after-before)
	}
	adapttest.Nothing(t, events, 0)
}

func TestWatchDeletedSecretEndsWatch(t *testing.T) {
	f := adapttest.NewFixture(t)
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_db_prod", "sk_api_key"})
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
	f.Srv.Delete("sk_api_key")
	e := adapttest.Receive(t, events)
	if !errors.Is(e.err, sdk.ErrNotFound) || !strings.Contains(e.err.Error(), "sk_api_key") {
		t.Fatalf("callback error %v, want a deleted error naming sk_api_key", e.err)
	}
	if strings.Contains(e.err.Error(), "k-123-secret") {
		t.Fatalf("callback error %q contains the value", e.err)
	}
	// The watch is over: no more callbacks, and Watch may be called again.
	f.Srv.RotateFields("sk_db_prod", map[string]string{"host": "x"})
	adapttest.Nothing(t, events, 200*time.Millisecond)
	if err := p.Watch(cb); err != nil {
		t.Fatalf("Watch after the watch ended: %v", err)
	}
}

func TestWatchAccessDenied(t *testing.T) {
	f := adapttest.NewFixture(t)
	m, client := f.Machine(t, "other")
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
	f.Srv.Revoke(m.ID(), "sk_api_key")
	if e := adapttest.Receive(t, events); !errors.Is(e.err, sdk.ErrAccessDenied) {
		t.Fatalf("callback error %v, want access denied", e.err)
	}
	if e := adapttest.Receive(t, events); e.err != nil {
		t.Fatalf("Watch from the final callback: %v", e.err)
	}
}

func TestWatchPollErrorKeepsWatching(t *testing.T) {
	f := adapttest.NewFixture(t)
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_db_prod", "sk_api_key"})
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
	f.Srv.FailNext(500)
	e := adapttest.Receive(t, events)
	if e.err == nil {
		// The next poll reports both secrets changed, since the failed one
		// may have taken news with it (see sdk.Client.Poll); in the same
		// batch, the change callback comes first.
		e = adapttest.Receive(t, events)
	}
	if e.err == nil || errors.Is(e.err, sdk.ErrNotFound) {
		t.Fatalf("callback (%v, %v), want a poll error", e.ev, e.err)
	}
	// One failed poll of two secrets is one callback.
	f.Srv.Rotate("sk_api_key", "k-456")
	if e := adapttest.Receive(t, events); e.err != nil {
		t.Fatalf("after a poll error: callback error %v, want the rotation", e.err)
	}
}

func TestUnwatchFromCallback(t *testing.T) {
	f := adapttest.NewFixture(t)
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_api_key"})
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
	f.Srv.Rotate("sk_api_key", "k-456")
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
	f := adapttest.NewFixture(t)
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(); err != nil {
		t.Fatal(err)
	}
	slow := adapttest.NewSlow()
	if err := p.Watch(func(any, error) { slow.Run() }); err != nil {
		t.Fatal(err)
	}
	f.Srv.Rotate("sk_api_key", "k-456")
	<-slow.Entered
	if err := p.Unwatch(); err != nil {
		t.Fatal(err)
	}
	if !slow.Finished() {
		t.Fatal("Unwatch returned while the callback was running")
	}
}

func TestWatchEndsWithContext(t *testing.T) {
	f := adapttest.NewFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_api_key"}, sikkerkeykoanf.WithContext(ctx))
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
	_, _, before := f.Count()
	f.Srv.Rotate("sk_api_key", "k-456")
	time.Sleep(150 * time.Millisecond)
	if _, _, after := f.Count(); after != before {
		t.Fatalf("%d polls after the context was cancelled", after-before)
	}
	adapttest.Nothing(t, events, 0)
}

func TestWatchOnClosedClient(t *testing.T) {
	f := adapttest.NewFixture(t)
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_api_key", "sk_list"})
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Client.Close()
	if err := p.Watch(func(any, error) {}); !errors.Is(err, sdk.ErrClosed) {
		t.Fatalf("Watch on a closed client: %v, want sdk.ErrClosed", err)
	}
	if err := p.Unwatch(); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentReadsWhileWatching(t *testing.T) {
	f := adapttest.NewFixture(t)
	p, err := sikkerkeykoanf.New(f.Client, []string{"sk_db_prod", "sk_api_key", "sk_list"})
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
	f.Srv.Rotate("sk_api_key", "k-456")
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
