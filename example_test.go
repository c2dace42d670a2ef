package sikkerkey_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/sikkerkey-go/sikkerkey"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/source"
)

type DB struct {
	Host     string
	Port     int
	Password sikkerkey.Secret
}

type Config struct {
	APIKey  sikkerkey.Secret  `sikkerkey:"sk_api_key"`
	DBPass  string            `sikkerkey:"sk_db_prod,field=password"`
	DB      DB                `sikkerkey:"sk_db_prod"` // every field of a structured secret
	Extra   map[string]string `sikkerkey:"sk_db_prod"`
	Timeout time.Duration     `sikkerkey:"sk_tuning,field=timeout,default=5s"`
	Debug   bool              `sikkerkey:"sk_flags,field=debug,optional"`
	Server  struct {          // untagged structs are walked
		Port int `sikkerkey:"sk_server,field=port"`
	}
}

// In production, Load reads SikkerKey through the machine identity found
// on disk: sikkerkey.Load(ctx, &cfg). Here the secrets come from memory.
func ExampleLoad() {
	secrets := source.Map(map[string]string{
		"sk_api_key": "ak_live_123",
		"sk_db_prod": `{"host": "db.internal", "port": 5432, "password": "pw"}`,
		"sk_server":  `{"port": "8443"}`,
	})
	var cfg Config
	if err := sikkerkey.Load(context.Background(), &cfg, sikkerkey.WithSources(secrets)); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", cfg.DB)
	fmt.Println(cfg.Timeout, cfg.Debug, cfg.Server.Port, cfg.Extra["host"])
	fmt.Println(cfg.APIKey, cfg.APIKey.Reveal())
	// Output:
	// {Host:db.internal Port:5432 Password:[REDACTED]}
	// 5s false 8443 db.internal
	// [REDACTED] ak_live_123
}

// Every failing field is reported at once, with its Go path, secret id and
// field, and never with a secret value.
func ExampleLoad_errors() {
	secrets := source.Map(map[string]string{
		"sk_api_key": "ak_live_123",
		"sk_db_prod": `{"host": "db.internal", "port": "not-a-port", "password": "pw"}`,
	})
	var cfg Config
	err := sikkerkey.Load(context.Background(), &cfg, sikkerkey.WithSources(secrets))
	fmt.Println(err)
	fmt.Println(errors.Is(err, sikkerkey.ErrMissing), errors.Is(err, sdk.ErrNotFound), errors.Is(err, sikkerkey.ErrDecode))
	var le *sikkerkey.LoadError
	if errors.As(err, &le) {
		fmt.Println(le.Fields[0].Path, le.Fields[0].Secret, le.Fields[0].Field)
	}
	// Output:
	// sikkerkey: cannot load sikkerkey_test.Config: 2 fields failed
	// 	DB.Port (secret sk_db_prod, field port, from map): cannot decode the value as int: not a base-10 integer
	// 	Server.Port (secret sk_server, field port): no source has the secret (tried map); create it or grant this machine access, or tag the field optional or default=<value>
	// true true true
	// DB.Port sk_db_prod port
}

// Sources are asked in order; for each secret id the first source that has
// it supplies the value and all its fields.
func ExampleWithSources() {
	env := map[string]string{"SK_API_KEY": "ak_dev"} // in real life, the process environment
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	secrets := source.Map(map[string]string{
		"sk_api_key": "ak_live_123",
		"sk_db_prod": `{"host": "db.internal", "port": 5432, "password": "pw"}`,
		"sk_server":  `{"port": 8443}`,
	})
	var cfg Config
	err := sikkerkey.Load(context.Background(), &cfg,
		sikkerkey.WithSources(source.Env(source.EnvLookup(lookup)), secrets))
	fmt.Println(err, cfg.APIKey.Reveal(), cfg.DB.Host)
	// Output: <nil> ak_dev db.internal
}

// A Secret never prints, marshals or logs its value.
func ExampleSecret() {
	type Creds struct {
		User     string
		Password sikkerkey.Secret
	}
	c := Creds{User: "app", Password: "hunter2"}
	fmt.Printf("%v %+v %#v %s %q %x\n", c, c, c.Password, c.Password, c.Password, c.Password)
	j, _ := json.Marshal(c)
	fmt.Println(string(j))
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("connecting", "password", c.Password)
	fmt.Println(c.Password.Reveal())
	// Output:
	// {app [REDACTED]} {User:app Password:[REDACTED]} [REDACTED] [REDACTED] [REDACTED] [REDACTED]
	// {"User":"app","Password":"[REDACTED]"}
	// level=INFO msg=connecting password=[REDACTED]
	// hunter2
}
