package sikkerkeyviper_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/adapters/internal/adapt/adapttest"
	sikkerkeyviper "github.com/sikkerkey-go/sikkerkey/adapters/viper"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/spf13/viper"
)

type dbConfig struct {
	Host     string        `mapstructure:"host"`
	Port     int           `mapstructure:"port"`
	Password string        `mapstructure:"password"`
	Timeout  time.Duration `mapstructure:"timeout"`
	Pool     int           `mapstructure:"pool"`
}

type appConfig struct {
	Name     string   `mapstructure:"name"`
	Database dbConfig `mapstructure:"database"`
	APIKey   string   `mapstructure:"sk_api_key"`
}

type change struct{ old, new *appConfig }

// reloader starts a Reloader over sk_db_prod (as "database") and
// sk_api_key whose hooks send to the returned channels. setup may be nil.
func reloader(t *testing.T, f *adapttest.Fixture, cfg sikkerkeyviper.ReloadConfig[appConfig]) (*sikkerkeyviper.Reloader[appConfig], chan change, chan error) {
	t.Helper()
	s, err := sikkerkeyviper.New(f.Client, []string{"sk_db_prod", "sk_api_key"},
		sikkerkeyviper.Rename("sk_db_prod", "database"))
	if err != nil {
		t.Fatal(err)
	}
	changes := make(chan change, 100)
	errs := make(chan error, 100)
	if cfg.Setup == nil {
		cfg.Setup = func(v *viper.Viper) error {
			v.SetDefault("name", "billing")
			v.SetDefault("database.pool", 10)
			return nil
		}
	}
	cfg.OnChange = func(old, new *appConfig) { changes <- change{old, new} }
	cfg.OnError = func(err error) { errs <- err }
	r, err := sikkerkeyviper.NewReloader(context.Background(), s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, changes, errs
}

func TestReloaderSeesRotation(t *testing.T) {
	f := adapttest.NewFixture(t)
	r, changes, errs := reloader(t, f, sikkerkeyviper.ReloadConfig[appConfig]{})
	first := r.Current()
	want := appConfig{Name: "billing", APIKey: "k-123-secret", Database: dbConfig{
		Host: "db.internal", Port: 5432, Password: "hunter2-db", Timeout: 5 * time.Second, Pool: 10}}
	if *first != want {
		t.Fatalf("Current() = %+v, want %+v", *first, want)
	}
	f.Srv.RotateFields("sk_db_prod", map[string]string{"host": "db.internal", "port": "6432", "password": "new-pw", "timeout": "5s"})
	c := adapttest.Receive(t, changes)
	if c.old != first || c.new.Database.Port != 6432 || c.new.Database.Password != "new-pw" {
		t.Fatalf("OnChange(%+v, %+v)", c.old, c.new)
	}
	if r.Current() != c.new {
		t.Fatal("Current() is not the value OnChange got")
	}
	if *first != want {
		t.Fatalf("the old value changed: %+v", *first)
	}
	adapttest.Nothing(t, errs, 0)
}

func TestReloaderSkipsUnchangedValues(t *testing.T) {
	f := adapttest.NewFixture(t)
	r, changes, errs := reloader(t, f, sikkerkeyviper.ReloadConfig[appConfig]{})
	first := r.Current()
	f.Srv.Rotate("sk_api_key", "k-123-secret") // a new version, the same value
	time.Sleep(300 * time.Millisecond)
	adapttest.Nothing(t, changes, 0)
	adapttest.Nothing(t, errs, 0)
	if r.Current() != first {
		t.Fatal("Current() changed for an equal value")
	}
}

func TestReloaderFailedRebuildKeepsLastGoodValue(t *testing.T) {
	f := adapttest.NewFixture(t)
	var broken atomic.Bool
	r, changes, errs := reloader(t, f, sikkerkeyviper.ReloadConfig[appConfig]{
		Setup: func(v *viper.Viper) error {
			if broken.Load() {
				return errors.New("config file unreadable")
			}
			return nil
		},
		Validate: func(c *appConfig) error {
			if c.Database.Port == 0 {
				return errors.New("database.port is required")
			}
			return nil
		},
	})
	first := r.Current()

	broken.Store(true)
	f.Srv.Rotate("sk_api_key", "k-456")
	if err := adapttest.Receive(t, errs); !strings.Contains(err.Error(), "config file unreadable") {
		t.Fatalf("OnError(%v), want the setup error", err)
	}
	if r.Current() != first {
		t.Fatal("a failed build replaced the current value")
	}

	broken.Store(false)
	f.Srv.RotateFields("sk_db_prod", map[string]string{"host": "db.internal"}) // no port
	err := adapttest.Receive(t, errs)
	if !strings.Contains(err.Error(), "database.port is required") || strings.Contains(err.Error(), "k-456") {
		t.Fatalf("OnError(%v), want the validation error without values", err)
	}
	if r.Current() != first {
		t.Fatal("an invalid value replaced the current value")
	}

	f.Srv.RotateFields("sk_db_prod", map[string]string{"host": "db.internal", "port": "6432"})
	if c := adapttest.Receive(t, changes); c.old != first || c.new.Database.Port != 6432 || c.new.APIKey != "k-456" {
		t.Fatalf("OnChange(%+v, %+v)", c.old, c.new)
	}
}

func TestReloaderDeletedSecret(t *testing.T) {
	f := adapttest.NewFixture(t)
	r, changes, errs := reloader(t, f, sikkerkeyviper.ReloadConfig[appConfig]{})
	first := r.Current()
	f.Srv.Delete("sk_api_key")
	err := adapttest.Receive(t, errs)
	if !errors.Is(err, sdk.ErrNotFound) || !strings.Contains(err.Error(), "sk_api_key") {
		t.Fatalf("OnError(%v), want a deleted error naming sk_api_key", err)
	}
	// The other secret is still watched; its rebuild fails on the missing
	// secret and the last good value stays.
	f.Srv.RotateFields("sk_db_prod", map[string]string{"host": "x", "port": "1"})
	if err := adapttest.Receive(t, errs); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("OnError(%v), want the missing secret", err)
	}
	adapttest.Nothing(t, changes, 0)
	if r.Current() != first {
		t.Fatal("the current value changed")
	}
}

func TestReloaderReload(t *testing.T) {
	f := adapttest.NewFixture(t)
	var name atomic.Value
	name.Store("billing")
	r, changes, _ := reloader(t, f, sikkerkeyviper.ReloadConfig[appConfig]{
		Setup: func(v *viper.Viper) error {
			v.SetDefault("name", name.Load())
			return nil
		},
	})
	name.Store("invoicing")
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := r.Current().Name; got != "invoicing" {
		t.Fatalf("after Reload name = %q", got)
	}
	if c := adapttest.Receive(t, changes); c.new.Name != "invoicing" {
		t.Fatalf("OnChange new name = %q", c.new.Name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Reload(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reload with a cancelled context: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(context.Background()); !errors.Is(err, sikkerkeyviper.ErrClosed) {
		t.Fatalf("Reload after Close: %v, want ErrClosed", err)
	}
}

func TestNewReloaderFirstBuildFails(t *testing.T) {
	f := adapttest.NewFixture(t)
	s, err := sikkerkeyviper.New(f.Client, []string{"sk_db_prod", "sk_missing"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := sikkerkeyviper.NewReloader(context.Background(), s, sikkerkeyviper.ReloadConfig[appConfig]{})
	if err == nil || !strings.Contains(err.Error(), "sk_missing") {
		t.Fatalf("NewReloader() = %v, %v; want an error naming sk_missing", r, err)
	}
	if _, err := sikkerkeyviper.NewReloader[appConfig](context.Background(), nil, sikkerkeyviper.ReloadConfig[appConfig]{}); err == nil {
		t.Fatal("NewReloader(nil Secrets) succeeded")
	}
	// Nothing polls.
	time.Sleep(100 * time.Millisecond)
	if _, _, polls := f.Count(); polls != 0 {
		t.Fatalf("%d polls after a failed NewReloader", polls)
	}
}

func TestReloaderCloseWaitsAndStops(t *testing.T) {
	f := adapttest.NewFixture(t)
	slow := adapttest.NewSlow()
	var calls atomic.Int32
	s, err := sikkerkeyviper.New(f.Client, []string{"sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := sikkerkeyviper.NewReloader(context.Background(), s, sikkerkeyviper.ReloadConfig[appConfig]{
		OnChange: func(_, _ *appConfig) {
			calls.Add(1)
			slow.Run()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.Srv.Rotate("sk_api_key", "k-456")
	<-slow.Entered
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if !slow.Finished() {
		t.Fatal("Close returned while OnChange was running")
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	_, _, before := f.Count()
	f.Srv.Rotate("sk_api_key", "k-789")
	time.Sleep(200 * time.Millisecond)
	if _, _, after := f.Count(); after != before {
		t.Fatalf("%d polls after Close", after-before)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("OnChange called %d times, want 1", n)
	}
}

func TestReloaderCloseFromHook(t *testing.T) {
	f := adapttest.NewFixture(t)
	closed := make(chan error, 1)
	s, err := sikkerkeyviper.New(f.Client, []string{"sk_api_key"})
	if err != nil {
		t.Fatal(err)
	}
	var r *sikkerkeyviper.Reloader[appConfig]
	var ready sync.WaitGroup
	ready.Add(1)
	r, err = sikkerkeyviper.NewReloader(context.Background(), s, sikkerkeyviper.ReloadConfig[appConfig]{
		OnChange: func(_, _ *appConfig) {
			ready.Wait()
			closed <- r.Close()
		},
	})
	ready.Done()
	if err != nil {
		t.Fatal(err)
	}
	f.Srv.Rotate("sk_api_key", "k-456")
	if err := adapttest.Receive(t, closed); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReloaderConcurrentReaders(t *testing.T) {
	f := adapttest.NewFixture(t)
	r, changes, _ := reloader(t, f, sikkerkeyviper.ReloadConfig[appConfig]{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if c := r.Current(); c.Database.Host == "" {
					t.Error("Current() returned an incomplete value")
					return
				}
			}
		}()
	}
	for _, port := range []string{"1", "2", "3"} {
		f.Srv.RotateFields("sk_db_prod", map[string]string{"host": "h", "port": port})
		if c := adapttest.Receive(t, changes); c.new.Database.Port == 0 {
			t.Fatalf("OnChange got %+v", c.new)
		}
	}
	close(stop)
	wg.Wait()
}
