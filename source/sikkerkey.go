package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// Fetch strategy of the SikkerKey source, chosen by measurement
// (BenchmarkSikkerKeyStrategy and BenchmarkSikkerKeyStrategyWarm, TLS, 2 ms
// per round trip). A cold client pays
// a TLS handshake per parallel connection, so reading n secrets one by one
// costs 6 ms for 1, 7 ms for 2, 11 ms for 4 and 38 ms for 50, while one
// export costs 6-7 ms for any n. A warm client against a machine granted
// 500 secrets reads 2 secrets in 3 ms where the export (every value) takes
// 8 ms. Loads at start-up are cold and reference several secrets; reloads
// are warm and re-read the one or two secrets that changed.
const (
	// exportAbove: more ids than this are fetched with one export.
	exportAbove = 2
	// maxParallel bounds the concurrent single-secret reads.
	maxParallel = 8
)

// SikkerKey returns a source reading secrets through a SikkerKey client.
// The client is not closed by the source.
//
// A lookup of one or two ids reads them in parallel; a lookup of more ids
// makes one export request, which returns
// every secret granted to the machine with its value, and then reads
// individually only the ids the export did not contain, so that a missing
// secret or a missing grant is reported with its own error. A secret that
// does not exist (HTTP 404) is absent from the source. A client with the
// offline cache on (sdk.WithCache) always reads secrets one by one (still
// in parallel), since only single reads fill and consult the cache; every other failure
// (403, 401, network...) is an error that fails the load. A value holding a
// JSON object is a structured secret.
//
// The source implements Poller: one poll request reports which of the
// watched secrets changed, were deleted, or became inaccessible; its
// MinPollInterval is the client's.
func SikkerKey(client *sdk.Client) Source {
	return &sikkerKeySource{client: client, exportAbove: exportAbove, parallel: maxParallel}
}

type sikkerKeySource struct {
	client      *sdk.Client
	exportAbove int // tests change these to force a strategy
	parallel    int
}

// String names the source in error messages.
func (s *sikkerKeySource) String() string { return "sikkerkey" }

// MinPollInterval is the shortest poll interval the client allows.
func (s *sikkerKeySource) MinPollInterval() time.Duration { return s.client.MinPollInterval() }

// Lookup fetches the requested secrets (see SikkerKey).
func (s *sikkerKeySource) Lookup(ctx context.Context, reqs []Request) (map[string]Value, error) {
	out := make(map[string]Value, len(reqs))
	todo := make([]string, 0, len(reqs))
	for _, r := range reqs {
		todo = append(todo, r.ID)
	}
	// The offline cache is filled and consulted only by single reads, so a
	// client with the cache on never batches through the export.
	if len(todo) > s.exportAbove && !s.client.CacheEnabled() {
		secrets, err := s.client.ExportSecrets(ctx, "")
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
		// On any other export failure, the single reads below say per secret
		// what is wrong (and may be answered from the client's offline cache).
		if err == nil {
			want := make(map[string]bool, len(todo))
			for _, id := range todo {
				want[id] = true
			}
			for _, sec := range secrets {
				if want[sec.ID] {
					out[sec.ID] = Value{Raw: sec.Value}
				}
			}
			todo = slices.DeleteFunc(todo, func(id string) bool {
				_, ok := out[id]
				return ok
			})
		}
	}
	return out, s.getAll(ctx, todo, out)
}

// getAll reads ids with at most s.parallel requests in flight and stores
// the values in out. A 404 leaves the id out; other failures are IDErrors.
func (s *sikkerKeySource) getAll(ctx context.Context, ids []string, out map[string]Value) error {
	if len(ids) == 0 {
		return nil
	}
	values := make([]string, len(ids))
	errs := make([]error, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(s.parallel, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				values[i], errs[i] = s.client.GetSecret(ctx, ids[i])
			}
		}()
	}
feed:
	for i := range ids {
		select {
		case next <- i:
		case <-ctx.Done():
			for j := i; j < len(ids); j++ {
				errs[j] = ctx.Err()
			}
			break feed
		}
	}
	close(next)
	wg.Wait()

	var failed []error
	for i, id := range ids {
		switch err := errs[i]; {
		case err == nil:
			out[id] = Value{Raw: values[i]}
		case errors.Is(err, sdk.ErrNotFound):
		default:
			failed = append(failed, &IDError{ID: id, Err: err})
		}
	}
	return errors.Join(failed...)
}

// Poll asks SikkerKey, in one request, which of ids changed since this
// machine last read or polled them.
func (s *sikkerKeySource) Poll(ctx context.Context, ids []string) (Change, error) {
	statuses, err := s.client.Poll(ctx, ids)
	if err != nil {
		return Change{}, err
	}
	var c Change
	for id, status := range statuses {
		switch status {
		case sdk.WatchDeleted:
			c.gone(id, fmt.Errorf("secret %s was deleted in SikkerKey: %w", id, sdk.ErrNotFound))
		case sdk.WatchAccessDenied:
			c.gone(id, fmt.Errorf("this machine lost access to secret %s; grant it again in SikkerKey: %w", id, sdk.ErrAccessDenied))
		default: // changed, or a status this version does not know: re-read
			c.Changed = append(c.Changed, id)
		}
	}
	slices.Sort(c.Changed)
	return c, nil
}

func (c *Change) gone(id string, err error) {
	if c.Gone == nil {
		c.Gone = make(map[string]error)
	}
	c.Gone[id] = err
}
