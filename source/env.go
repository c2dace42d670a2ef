package source

import (
	"context"
	"encoding/json"
	"os"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// EnvOption configures the Env source.
type EnvOption func(*envSource)

// EnvPrefix puts prefix in front of every variable name: with
// EnvPrefix("APP_"), secret sk_db_prod is APP_SK_DB_PROD.
func EnvPrefix(prefix string) EnvOption {
	return func(e *envSource) { e.prefix = prefix }
}

// EnvLookup replaces os.LookupEnv, for example to read a map in tests
// without touching the process environment.
func EnvLookup(lookup func(name string) (string, bool)) EnvOption {
	return func(e *envSource) {
		if lookup != nil {
			e.lookup = lookup
		}
	}
}

// Env returns a source reading environment variables, typically placed
// first in WithSources to override other sources locally.
//
// Names follow the SikkerKey export rule (upper case, every run of
// characters outside A-Z and 0-9 becomes one '_'): secret sk_db_prod is
// SK_DB_PROD, and its field password is SK_DB_PROD_PASSWORD. The source has
// a secret when its variable is set (to anything, even ""); a value holding a
// JSON object is structured. Otherwise it has the secret when at least one
// variable of a field the configuration reads is set, and the secret then
// consists of exactly those fields (precedence is per secret, so set every
// field the configuration needs). A map tagged with the secret id reads no
// named fields, so it needs the JSON form.
//
// Variables are read at every lookup; Refresh re-reads them.
func Env(opts ...EnvOption) Source {
	e := &envSource{lookup: os.LookupEnv}
	for _, opt := range opts {
		if opt != nil {
			opt(e)
		}
	}
	return e
}

type envSource struct {
	prefix string
	lookup func(string) (string, bool)
}

// Lookup reads the variables of the requested secrets.
func (e *envSource) Lookup(_ context.Context, reqs []Request) (map[string]Value, error) {
	out := make(map[string]Value, len(reqs))
	for _, r := range reqs {
		name := e.prefix + wire.EnvName(r.ID)
		if v, ok := e.lookup(name); ok {
			out[r.ID] = Value{Raw: v}
			continue
		}
		var fields map[string]string
		for _, f := range r.Fields {
			if v, ok := e.lookup(name + "_" + wire.EnvName(f)); ok {
				if fields == nil {
					fields = make(map[string]string, len(r.Fields))
				}
				fields[f] = v
			}
		}
		if fields != nil {
			raw, err := json.Marshal(fields)
			if err != nil {
				return nil, err
			}
			out[r.ID] = Value{Raw: string(raw), Fields: fields}
		}
	}
	return out, nil
}

// String names the source in error messages.
func (e *envSource) String() string {
	if e.prefix != "" {
		return "env (prefix " + e.prefix + ")"
	}
	return "env"
}
