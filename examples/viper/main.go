// Command viper shows SikkerKey secrets in a viper configuration: a config
// file and defaults set up by your own function, secrets merged into
// viper's config layer, decoded into a struct, and the safe reload pattern
// of sikkerkeyviper.Reloader when a secret rotates or the file changes (a
// new viper instance and a new struct per change, swapped through an atomic
// pointer). Everything runs in this process, offline: a local SikkerKey
// test server stands in for the real service.
//
//	cd examples/viper && go run .
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	sikkerkeyviper "github.com/sikkerkey-go/sikkerkey/adapters/viper"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
	"github.com/spf13/viper"
)

// Config is what the service needs.
type Config struct {
	Listen   string   `mapstructure:"listen"` // from the config file
	Database Database `mapstructure:"database"`
	APIKey   string   `mapstructure:"api_key"`
}

// Database comes from the structured secret sk_db_prod, plus a default.
type Database struct {
	Host     string        `mapstructure:"host"`
	Port     int           `mapstructure:"port"`
	Password string        `mapstructure:"password"`
	Timeout  time.Duration `mapstructure:"timeout"`
}

// String prints the configuration with the secrets redacted.
func (c *Config) String() string {
	return fmt.Sprintf("listen=%s database=%s:%d timeout=%s password=[REDACTED] api_key=[REDACTED]",
		c.Listen, c.Database.Host, c.Database.Port, c.Database.Timeout)
}

// The secret values this example stores. None of them is ever printed.
const (
	apiKey      = "ak_live_viper_4Xz9"
	dbPassword  = "correct-horse-battery"
	newPassword = "staple-9Kx4-rotated"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "viper example:", err)
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
	client, err := srv.AddMachine("viper-example").Client(
		sdk.WithMinPollInterval(50*time.Millisecond), sdk.WithPollInterval(100*time.Millisecond))
	if err != nil {
		return err
	}
	defer client.Close()

	// 3. A config file with the non-secret settings.
	dir, err := os.MkdirTemp("", "sikkerkey-viper-example")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	configFile := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(configFile, []byte("listen: \":8080\"\n"), 0o600); err != nil {
		return err
	}

	// 4. The secrets: sk_db_prod lands under "database", sk_api_key under
	// "api_key". Each build fetches both in one batch.
	secrets, err := sikkerkeyviper.New(client, []string{"sk_db_prod", "sk_api_key"},
		sikkerkeyviper.Rename("sk_db_prod", "database"),
		sikkerkeyviper.Rename("sk_api_key", "api_key"))
	if err != nil {
		return err
	}

	// 5. The reloader builds a new viper for every change: Setup (defaults
	// and the file), then the secrets, decoded into a new Config.
	changes := make(chan *Config, 4)
	r, err := sikkerkeyviper.NewReloader(ctx, secrets, sikkerkeyviper.ReloadConfig[Config]{
		Setup: func(v *viper.Viper) error {
			v.SetDefault("database.timeout", "5s")
			v.SetConfigFile(configFile)
			return v.ReadInConfig()
		},
		OnChange: func(old, new *Config) { changes <- new },
		OnError: func(err error) {
			fmt.Fprintln(out, "reload failed, keeping the current config:", err)
		},
	})
	if err != nil {
		return err
	}
	defer r.Close()
	first := r.Current()
	fmt.Fprintln(out, "loaded:  ", first)

	wait := func() (*Config, error) {
		select {
		case cfg := <-changes:
			return cfg, nil
		case <-time.After(10 * time.Second):
			return nil, errors.New("no reload within 10s")
		}
	}

	// 6. Rotate the database credentials in SikkerKey: the reloader sees it.
	fmt.Fprintln(out, "rotating sk_db_prod (new port and password) ...")
	srv.RotateFields("sk_db_prod", map[string]string{
		"host": "db.internal", "port": "6432", "password": newPassword,
	})
	cfg, err := wait()
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "reloaded:", cfg)
	fmt.Fprintf(out, "database.port: %d → %d; password rotated: %t\n",
		first.Database.Port, cfg.Database.Port, cfg.Database.Password != first.Database.Password)

	// 7. Edit the config file, then call Reload (instead of viper's
	// WatchConfig, which would re-read the file into a shared viper and
	// erase the merged secrets).
	if err := os.WriteFile(configFile, []byte("listen: \":9090\"\n"), 0o600); err != nil {
		return err
	}
	if err := r.Reload(ctx); err != nil {
		return err
	}
	cfg, err = wait()
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "file changed:", cfg)
	fmt.Fprintln(out, "the first config is untouched:", first)
	return nil
}
