package sikkerkeyviper

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sikkerkey-go/sikkerkey/adapters/internal/adapt"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/spf13/viper"
)

// DefaultTimeout, 30 seconds, bounds one Snapshot (every request of its batch
// fetch, retries included) unless WithTimeout says otherwise.
const DefaultTimeout = adapt.DefaultTimeout

// Secrets is a fixed set of SikkerKey secrets and the viper key each one
// lands under. Create it with New. It is immutable and safe for concurrent
// use.
type Secrets struct {
	set *adapt.SecretSet
}

// Option configures Secrets.
type Option func(*config)

type config struct{ adapt.Config }

// Rename stores secret id under key instead of under the id itself. A key
// holding the delimiter (see WithDelim, default ".") is a path:
// Rename("sk_db_prod", "db.primary") puts the secret's fields under
// db.primary.host, db.primary.password and so on. No key may equal another
// or lie inside another; New reports such conflicts. Viper keys are
// case-insensitive: viper sees every key in lower case.
func Rename(id, key string) Option {
	return func(c *config) { c.Rename(id, key) }
}

// WithTimeout bounds each Snapshot, every request of its batch fetch and
// the client's retries included, on top of the context's own deadline
// (default DefaultTimeout). Zero means no bound beyond the context and the
// client's per-request timeout.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.Timeout = d }
}

// WithDelim sets the delimiter that splits Rename keys into paths. Use the
// viper instance's key delimiter (viper.KeyDelimiter; default ".").
func WithDelim(delim string) Option {
	return func(c *config) { c.Delim = delim }
}

// New returns the secrets with the given ids, read through client. Each
// secret lands under its id, or under the key given with Rename. The client
// is not closed by Secrets.
//
// New makes no request; it fails only on a nil client, no ids, an invalid
// id, or a bad option.
func New(client *sdk.Client, ids []string, opts ...Option) (*Secrets, error) {
	c := config{adapt.DefaultConfig()}
	for _, o := range opts {
		o(&c)
	}
	set, err := adapt.NewSecretSet(client, ids, c.Config)
	if err != nil {
		return nil, fmt.Errorf("sikkerkeyviper: %w", err)
	}
	return &Secrets{set: set}, nil
}

// Snapshot fetches every secret in one batch (one export request for three
// or more secrets, parallel reads for one or two) and returns them as a new
// nested map: a structured secret (a JSON object) becomes a map of its
// fields, which are strings, and any other secret a string. With
// Rename("sk_db_prod", "database"), viper sees database.host,
// database.password and so on.
//
// A secret that does not exist is an error naming its id, as is any other
// failure; errors never contain secret values.
func (s *Secrets) Snapshot(ctx context.Context) (map[string]any, error) {
	m, err := s.set.Fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("sikkerkeyviper: %w", err)
	}
	return m, nil
}

// MergeInto fetches a Snapshot and merges it into v with Merge. v must not
// be used by other goroutines meanwhile (viper is not safe for concurrent
// use); see Reloader for reloading.
func (s *Secrets) MergeInto(ctx context.Context, v *viper.Viper) error {
	m, err := s.Snapshot(ctx)
	if err != nil {
		return err
	}
	return Merge(v, m)
}

// Merge merges snapshot into v's config layer with v.MergeConfigMap,
// without modifying snapshot: MergeConfigMap lower-cases the keys of the
// map it is given in place and keeps references to its nested maps, so
// Merge hands it a deep copy.
//
// # Which layer
//
// The values land in viper's config layer, the one ReadInConfig fills from
// a config file: Set, flags (BindPFlag), and environment variables
// (AutomaticEnv, BindEnv) override them; they override the key/value store
// and SetDefault. Merging goes key by key into what the layer holds, so a
// snapshot key replaces the same key from the config file and leaves the
// file's other keys alone. Where the file has a map and the snapshot a
// string under the same key, viper keeps the map and silently drops the
// string: keep secret keys apart from the file's keys (see Rename).
//
// # WatchConfig
//
// viper's WatchConfig calls ReadInConfig on every change of the config
// file, which replaces the whole config layer and so erases every merged
// secret, and it runs OnConfigChange on its own goroutine while other
// goroutines may be reading v. Re-merging in OnConfigChange brings the
// secrets back but races with those readers. Prefer Reloader, which builds
// a new viper per change, and call its Reload method when the file changes.
//
// Viper keys are case-insensitive: two keys of one map that differ only in
// case (a structured secret with fields "Host" and "host") would reach viper
// in an unpredictable order, so Merge rejects them, naming the keys. A nil
// or empty snapshot changes nothing.
func Merge(v *viper.Viper, snapshot map[string]any) error {
	if v == nil {
		return errors.New("sikkerkeyviper: Merge needs a viper instance (got nil)")
	}
	if len(snapshot) == 0 {
		return nil
	}
	m, err := copyLower(snapshot, "")
	if err != nil {
		return fmt.Errorf("sikkerkeyviper: %w", err)
	}
	return v.MergeConfigMap(m)
}

// copyLower returns a deep copy of m with every key in lower case, as viper
// stores keys. path names m in errors.
func copyLower(m map[string]any, path string) (map[string]any, error) {
	out := make(map[string]any, len(m))
	orig := make(map[string]string, len(m)) // lower-case key -> key in m
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic errors
	for _, k := range keys {
		lower := strings.ToLower(k)
		if prev, dup := orig[lower]; dup {
			where := ""
			if path != "" {
				where = " under " + path
			}
			return nil, fmt.Errorf("keys %q and %q%s differ only in case, and viper keys are case-insensitive", prev, k, where)
		}
		orig[lower] = k
		v, err := copyValue(m[k], join(path, lower))
		if err != nil {
			return nil, err
		}
		out[lower] = v
	}
	return out, nil
}

// copyValue deep-copies the values viper lower-cases in place: maps, and
// maps inside []any.
func copyValue(v any, path string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		return copyLower(x, path)
	case map[any]any: // as YAML v2 decodes; viper converts these with cast
		m := make(map[string]any, len(x))
		for k, e := range x {
			key := fmt.Sprint(k)
			if _, dup := m[key]; dup {
				return nil, fmt.Errorf("two keys print as %q under %s", key, path)
			}
			m[key] = e
		}
		return copyLower(m, path)
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			c, err := copyValue(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			s[i] = c
		}
		return s, nil
	default:
		return v, nil
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
