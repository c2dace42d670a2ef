// Command koanf shows SikkerKey secrets in a koanf configuration: defaults
// from a map, secrets from the sikkerkeykoanf provider, decoded into a
// struct, and the safe reload pattern when a secret rotates (a new koanf
// instance and a new struct per change, swapped through an atomic pointer).
// Everything runs in this process, offline: a local SikkerKey test server
// stands in for the real service.
//
//	cd examples/koanf && go run .
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/v2"
	sikkerkeykoanf "github.com/sikkerkey-go/sikkerkey/adapters/koanf"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// Config is what the service needs.
type Config struct {
	Listen   string   `koanf:"listen"` // a plain default
	Database Database `koanf:"database"`
	APIKey   string   `koanf:"api_key"`
}

// Database comes from the structured secret sk_db_prod, plus a default.
type Database struct {
	Host     string        `koanf:"host"`
	Port     int           `koanf:"port"`
	Password string        `koanf:"password"`
	Timeout  time.Duration `koanf:"timeout"`
}

// String prints the configuration with the secrets redacted.
func (c *Config) String() string {
	return fmt.Sprintf("listen=%s database=%s:%d timeout=%s password=[REDACTED] api_key=[REDACTED]",
		c.Listen, c.Database.Host, c.Database.Port, c.Database.Timeout)
}

// The secret values this example stores. None of them is ever printed.
const (
	apiKey      = "ak_live_koanf_7Qm2"
	dbPassword  = "correct-horse-battery"
	newPassword = "staple-9Kx4-rotated"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "koanf example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	// 1. A local SikkerKey server with a machine and two secrets.
	srv := sikkerkeytest.NewServer()
	defer srv.Close()
	srv.PutFields("sk_db_prod", "Database", "", map[string]string{
		"host": "db.internal", "port": "5432", "password": dbPassword,
	})
	srv.PutSecret("sk_api_key", "API key", "", apiKey)

	// 2. A client for the machine. It polls every 100 ms so the example is
	// quick; against the real service the interval is 15 s (10 s minimum).
	client, err := srv.AddMachine("koanf-example").Client(
		sdk.WithMinPollInterval(50*time.Millisecond), sdk.WithPollInterval(100*time.Millisecond))
	if err != nil {
		return err
	}
	defer client.Close()

	// 3. The provider: sk_db_prod lands under "database", sk_api_key under
	// "api_key". Read fetches both in one batch.
	p, err := sikkerkeykoanf.New(client, []string{"sk_db_prod", "sk_api_key"},
		sikkerkeykoanf.Rename("sk_db_prod", "database"),
		sikkerkeykoanf.Rename("sk_api_key", "api_key"),
		sikkerkeykoanf.WithContext(ctx))
	if err != nil {
		return err
	}

	// 4. load builds everything from scratch: a new koanf instance, defaults,
	// then secrets, decoded into a new Config. It never touches a koanf
	// instance or a Config that someone else holds.
	defaults := map[string]any{"listen": ":8080", "database.timeout": "5s"}
	load := func() (*Config, error) {
		k := koanf.New(".")
		if err := k.Load(confmap.Provider(defaults, "."), nil); err != nil {
			return nil, err
		}
		if err := k.Load(p, nil); err != nil {
			return nil, err
		}
		var cfg Config
		if err := k.Unmarshal("", &cfg); err != nil {
			return nil, err
		}
		return &cfg, nil
	}
	var current atomic.Pointer[Config] // what request handlers read
	first, err := load()
	if err != nil {
		return err
	}
	current.Store(first)
	fmt.Fprintln(out, "loaded: ", current.Load())

	// 5. Watch: on a rotation, load again and swap; on an error keep the
	// current config.
	reloaded := make(chan *Config, 1)
	err = p.Watch(func(_ any, err error) {
		if err != nil {
			fmt.Fprintln(out, "watch error, keeping the current config:", err)
			return
		}
		cfg, err := load()
		if err != nil {
			fmt.Fprintln(out, "reload failed, keeping the current config:", err)
			return
		}
		current.Store(cfg)
		select {
		case reloaded <- cfg:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer p.Unwatch()

	// 6. Rotate the database credentials in SikkerKey.
	fmt.Fprintln(out, "rotating sk_db_prod (new port and password) ...")
	srv.RotateFields("sk_db_prod", map[string]string{
		"host": "db.internal", "port": "6432", "password": newPassword,
	})
	select {
	case cfg := <-reloaded:
		fmt.Fprintln(out, "reloaded:", cfg)
		fmt.Fprintf(out, "database.port: %d → %d; password rotated: %t\n",
			first.Database.Port, cfg.Database.Port, cfg.Database.Password != first.Database.Password)
		fmt.Fprintln(out, "the first config is untouched: port", first.Database.Port)
	case <-time.After(10 * time.Second):
		return errors.New("no reload within 10s")
	}
	return nil
}
