package sikkerkey

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/source"
)

// Load fills the tagged fields of *cfg with secrets and returns nil, or
// returns an error and leaves *cfg unchanged.
//
// Every secret id the configuration references is collected first, from a
// plan built once per type, and each distinct id is fetched once, however
// many fields use it. Sources are asked in order of precedence (see
// WithSources); the default source is SikkerKey, through a client for the
// identity of WithVault or the auto-detected one. The values are decoded
// into a copy of *cfg, so a failure never leaves it half-written; untagged
// fields keep their values. When *T has a method Validate() error, Load
// calls it on the new configuration and returns its error wrapped with the
// type name (errors.Is and errors.As reach it). That error is the caller's
// own: unlike the loader's errors, nothing stops it from quoting a value.
//
// All the fields that fail are reported at once in a *LoadError. An error
// never contains a secret value.
func Load[T any](ctx context.Context, cfg *T, opts ...Option) error {
	if cfg == nil {
		return fmt.Errorf("%w: Load needs a non-nil pointer to a struct", sdk.ErrConfiguration)
	}
	l, err := newLoader(reflect.TypeFor[T](), opts)
	if err != nil {
		return err
	}
	defer l.close()
	snap, err := l.fetchAll(ctx)
	if err != nil {
		return err
	}
	out, err := l.build(snap, reflect.ValueOf(cfg).Elem())
	if err != nil {
		return err
	}
	next := out.Interface().(*T)
	if err := validate(next); err != nil {
		return err
	}
	*cfg = *next
	return nil
}

// validate calls cfg.Validate when the type has one.
func validate(cfg any) error {
	v, ok := cfg.(interface{ Validate() error })
	if !ok {
		return nil
	}
	if err := v.Validate(); err != nil {
		return fmt.Errorf("sikkerkey: %T.Validate: %w", cfg, err)
	}
	return nil
}

// loader holds what a Load or a Watch needs: the plan of the configuration
// type and the sources.
type loader struct {
	typ     reflect.Type
	plan    *plan
	reqByID map[string]source.Request
	sources []source.Source
	names   []string
	conv    *converter
	opts    options
	owned   *sdk.Client // made by the loader, closed by close
	// fallbacks hears the owned client's offline-cache fallbacks.
	fallbacks cacheFallbacks
}

func newLoader(t reflect.Type, opts []Option) (*loader, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: the configuration must be a struct, not %s", sdk.ErrConfiguration, t)
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	l := &loader{typ: t, plan: planFor(t), conv: newConverter(o.hooks), opts: o}
	l.reqByID = make(map[string]source.Request, len(l.plan.reqs))
	for _, r := range l.plan.reqs {
		l.reqByID[r.ID] = r
	}
	switch {
	case o.sourcesSet:
		l.sources = o.sources
	case o.client != nil:
		l.sources = []source.Source{source.SikkerKey(o.client)}
	case len(l.plan.ids) == 0:
		// Nothing to fetch: no identity needed.
	default:
		clientOpts := append(slices.Clone(o.clientOpts), sdk.WithLogger(o.logger))
		if o.cache != nil {
			clientOpts = append(clientOpts, l.fallbacks.clientOption(*o.cache))
		}
		c, err := sdk.New(o.vault, clientOpts...)
		if err != nil {
			return nil, fmt.Errorf("sikkerkey: the default SikkerKey source needs a machine identity (or use WithClient or WithSources): %w", err)
		}
		l.owned = c
		l.sources = []source.Source{source.SikkerKey(c)}
	}
	for i, s := range l.sources {
		name := fmt.Sprintf("source %d (%T)", i+1, s)
		if n, ok := s.(fmt.Stringer); ok {
			name = n.String()
		}
		l.names = append(l.names, name)
	}
	return l, nil
}

func (l *loader) close() {
	if l.owned != nil {
		_ = l.owned.Close()
	}
}

// resolved is what the sources said about one secret id.
type resolved struct {
	src     int          // index of the source that has the id or failed; -1 when none has it
	val     source.Value // the value, when src >= 0 and err == nil
	err     error        // the source failed for this id
	gone    error        // why a watched source dropped the id, when none has it
	goneSrc int          // the source that dropped it
}

// same reports whether two answers about an id are the same.
func (r *resolved) same(o *resolved) bool {
	sameErr := func(a, b error) bool {
		return (a == nil) == (b == nil) && (a == nil || a.Error() == b.Error())
	}
	return r.src == o.src && r.val.Raw == o.val.Raw && maps.Equal(r.val.Fields, o.val.Fields) &&
		sameErr(r.err, o.err) && sameErr(r.gone, o.gone)
}

// snapshot is the state of every referenced secret id.
type snapshot map[string]*resolved

func (s snapshot) clone() snapshot {
	c := make(snapshot, len(s))
	for id, r := range s {
		c[id] = r
	}
	return c
}

// fetchAll asks the sources for every secret id of the plan.
func (l *loader) fetchAll(ctx context.Context) (snapshot, error) {
	snap := make(snapshot, len(l.plan.ids))
	for _, id := range l.plan.ids {
		snap[id] = &resolved{src: -1}
	}
	if err := l.resolve(ctx, l.plan.reqs, 0, snap); err != nil {
		return nil, err
	}
	return snap, nil
}

// resolve asks sources from, from+1, ... for reqs, each source only for
// the ids the ones before it did not have, and records the answers in snap.
// Ids no source has keep the entry they had. Only a cancelled ctx is an
// error here; source failures are recorded per id.
func (l *loader) resolve(ctx context.Context, reqs []source.Request, from int, snap snapshot) error {
	for i := from; i < len(l.sources) && len(reqs) > 0; i++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sikkerkey: loading %s: %w", l.plan.typeName, err)
		}
		vals, err := l.sources[i].Lookup(ctx, reqs)
		perID, general := source.SplitIDErrors(err)
		var rest []source.Request
		for _, r := range reqs {
			if v, ok := vals[r.ID]; ok {
				snap[r.ID] = &resolved{src: i, val: v}
			} else if e := perID[r.ID]; e != nil {
				snap[r.ID] = &resolved{src: i, err: e}
			} else if general != nil {
				snap[r.ID] = &resolved{src: i, err: general}
			} else {
				rest = append(rest, r)
			}
		}
		reqs = rest
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sikkerkey: loading %s: %w", l.plan.typeName, err)
	}
	return nil
}

// requests returns the plan's requests for ids.
func (l *loader) requests(ids []string) []source.Request {
	reqs := make([]source.Request, 0, len(ids))
	for _, id := range ids {
		if r, ok := l.reqByID[id]; ok {
			reqs = append(reqs, r)
		}
	}
	return reqs
}

// sourceName names source i for error messages.
func (l *loader) sourceName(i int) string {
	if i < 0 || i >= len(l.names) {
		return ""
	}
	return l.names[i]
}
