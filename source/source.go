package source

import "context"

// Request asks a source for one secret.
type Request struct {
	// ID is the secret id. The loader only sends ids made of A-Z, a-z, 0-9,
	// '_' and '-'.
	ID string
	// Fields names the fields of a structured secret that the configuration
	// reads (field= tags, and the snake_case names of the fields of a struct
	// tagged with the id), sorted and without duplicates; nil when it reads
	// only the whole value or every field (a map). Sources that store whole
	// values ignore it; Env uses it to know which variables to look at.
	Fields []string
}

// Value is what a source holds for one secret id.
type Value struct {
	// Raw is the value. For a structured secret it is the JSON object text.
	Raw string
	// Fields holds the fields of a structured secret. It may be left nil:
	// the loader then parses Raw as a JSON object when the configuration
	// reads fields.
	Fields map[string]string
}

// Source supplies secret values to the loader. It is the package's
// extension point: implement it to read secrets from anywhere.
//
// Lookup answers a batch of requests at once, so that a remote source can
// fetch them in one round trip or in parallel. It returns the values of the
// ids it has; ids it does not have are left out of the map, and the loader
// asks the next source for them. A non-nil error fails the load for every
// requested id without a value, unless the error is made only of *IDError
// values, which fail just their ids. Lookup must honour ctx, must not keep
// or modify reqs, and may be called concurrently.
type Source interface {
	Lookup(ctx context.Context, reqs []Request) (map[string]Value, error)
}

// Func turns a function into a Source.
type Func func(ctx context.Context, reqs []Request) (map[string]Value, error)

// Lookup calls f.
func (f Func) Lookup(ctx context.Context, reqs []Request) (map[string]Value, error) {
	return f(ctx, reqs)
}

// IDError is the failure of one secret id in a batch lookup. A source that
// fails some ids and answers the others returns the values it has and the
// IDErrors of the rest, joined with errors.Join.
type IDError struct {
	ID  string
	Err error
}

// Error names the secret id and the cause.
func (e *IDError) Error() string { return "secret " + e.ID + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *IDError) Unwrap() error { return e.Err }

// SplitIDErrors takes apart an error returned by Lookup: the causes of the
// *IDError values it is made of (through errors.Join), by secret id, and
// rest, which is err itself when it holds anything other than IDErrors and
// nil otherwise. A nil err gives no ids and a nil rest.
func SplitIDErrors(err error) (perID map[string]error, rest error) {
	if err == nil {
		return nil, nil
	}
	perID = map[string]error{}
	var walk func(error) bool
	walk = func(e error) bool {
		if ie, ok := e.(*IDError); ok {
			perID[ie.ID] = ie.Err
			return true
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			all := true
			for _, inner := range j.Unwrap() {
				all = walk(inner) && all
			}
			return all
		}
		return false
	}
	if !walk(err) {
		rest = err
	}
	return perID, rest
}

// Change is news from a Watcher or a Poller.
type Change struct {
	// Changed lists the ids whose value may have changed; the loader looks
	// them up again. Reporting an id that did not change costs one re-read
	// and never a spurious OnChange.
	Changed []string
	// Gone maps ids the source no longer supplies to the reason (for
	// SikkerKey an error matching sdk.ErrNotFound for a deleted secret or
	// sdk.ErrAccessDenied for revoked access). The loader treats them as
	// absent from this source without looking them up again.
	Gone map[string]error
}

// Empty reports whether c carries no news.
func (c Change) Empty() bool { return len(c.Changed) == 0 && len(c.Gone) == 0 }

// Watcher is an optional interface for sources that learn about changes by
// themselves, such as files watched through fsnotify.
//
// Watch blocks until ctx is done, then returns nil; it returns an error
// early only when watching is impossible. It calls notify, never
// concurrently with itself and never after returning, for every change to
// ids that happens after Watch was called. A watcher that cannot tell
// whether something changed between the loader's last Lookup and the
// moment its watch was in place reports the ids once when it is ready.
// notify does not block.
type Watcher interface {
	Watch(ctx context.Context, ids []string, notify func(Change)) error
}

// Poller is an optional interface for sources that can be asked what
// changed, such as SikkerKey. The loader calls Poll on its own schedule
// (one call per interval for all ids, with jitter) and backs off after an
// error; an error matching sdk.ErrRateLimited whose *sdk.APIError carries a
// RetryAfter delays the next poll by at least that much. A Poller may also
// have a method MinPollInterval() time.Duration, the shortest interval its
// backend accepts.
type Poller interface {
	Poll(ctx context.Context, ids []string) (Change, error)
}
