package sikkerkey_test

// The soak: a Watcher follows a sikkerkeytest server for many poll
// intervals while a driver rotates, deletes, revokes and breaks things at
// random, and concurrent readers check every configuration they see. It
// asserts that every good rotation is eventually published (at quiet
// checkpoints and at the end), that no bad value is ever published, that
// readers never see a torn or modified configuration, that published
// versions never go back, and that goroutines and heap stay flat.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sikkerkey-go/sikkerkey"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

const (
	// soakDuration is how long the driver makes trouble. With the set-up,
	// checkpoints and tear-down the test takes a few seconds more.
	soakDuration = 20 * time.Second
	// soakCheckpointEvery is how often the driver stops making trouble,
	// repairs the server and waits for the last good values to be published.
	soakCheckpointEvery = 2500 * time.Millisecond
	// soakPublishTimeout bounds the wait at a checkpoint. Polls back off to
	// 64 intervals after failures, and a rate limit asks for a second.
	soakPublishTimeout = 15 * time.Second
	soakPollInterval   = 10 * time.Millisecond
	soakReaders        = 2
)

type soakPair struct {
	A, B string // always rotated together; equal in every good value
	V    int    // the version; A and B are "v<V>"
}

type soakConfig struct {
	Pair soakPair         `sikkerkey:"sk_pair"`
	Key  sikkerkey.Secret `sikkerkey:"sk_key"`  // key-<version>
	Port int              `sikkerkey:"sk_port"` // the version itself
	Opt  string           `sikkerkey:"sk_opt,default=none"`
}

var errSoakInvalid = errors.New("soak: invalid configuration")

// Validate rejects the bad values the driver writes that still decode.
func (c *soakConfig) Validate() error {
	if err := soakInvalid(c); err != nil {
		return fmt.Errorf("%w: %s", errSoakInvalid, err)
	}
	return nil
}

// soakInvalid says what is wrong with a configuration no good value can
// give: the invariant readers check on every configuration they see.
func soakInvalid(c *soakConfig) error {
	switch {
	case c == nil:
		return errors.New("nil configuration")
	case c.Pair.A != c.Pair.B:
		return errors.New("pair torn: a and b differ")
	case c.Pair.A != "v"+strconv.Itoa(c.Pair.V):
		return errors.New("pair torn: a is not of version v")
	case !strings.HasPrefix(c.Key.Reveal(), "key-"):
		return errors.New("bad key")
	case c.Port <= 0:
		return errors.New("bad port")
	case c.Opt != "none" && !strings.HasPrefix(c.Opt, "opt-"):
		return errors.New("bad opt")
	}
	return nil
}

// soakVersions are the versions of the secrets in a configuration; opt is
// 0 when the optional secret is absent.
type soakVersions struct{ pair, key, port, opt int }

func versionsOf(c *soakConfig) soakVersions {
	key, _ := strconv.Atoi(strings.TrimPrefix(c.Key.Reveal(), "key-"))
	opt, _ := strconv.Atoi(strings.TrimPrefix(c.Opt, "opt-"))
	return soakVersions{pair: c.Pair.V, key: key, port: c.Port, opt: opt}
}

// lossyTransport loses answers after the server has processed the request:
// the connection breaks on the way back. sikkerkeytest's own faults all
// strike before a request is processed; this one consumes what the server
// reports once, such as a poll's "changed".
type lossyTransport struct {
	base http.RoundTripper
	lose atomic.Int32 // answers still to lose
	lost atomic.Int64
}

func (l *lossyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	for {
		n := l.lose.Load()
		if n <= 0 {
			return resp, nil
		}
		if l.lose.CompareAndSwap(n, n-1) {
			break
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	l.lost.Add(1)
	return nil, errors.New("soak: connection reset after the request was processed")
}

// soakDriver makes trouble. Only its goroutine uses it.
type soakDriver struct {
	rnd   *rand.Rand
	srv   *sikkerkeytest.Server
	m     *sikkerkeytest.Machine
	lossy *lossyTransport
	seq   int

	want    soakWant        // the last good value of each secret
	bad     map[string]bool // the secret holds a bad value now
	deleted map[string]bool
	revoked map[string]bool
	sealed  bool

	drainer     *sdk.Client // another machine's client, to use up queued faults
	quietUntil  time.Time   // no new fault before
	sealedUntil time.Time

	stats soakStats
}

// soakWant is what a checkpoint expects the configuration to become.
type soakWant struct {
	pair int
	key  string
	port int
	opt  string
}

type soakStats struct {
	good, bad, deletes, recreates, revokes, grants, failNext, rateLimits, drops, lost, seals int
}

var soakIDs = []string{"sk_pair", "sk_key", "sk_port", "sk_opt"}

func (d *soakDriver) next() int {
	d.seq++
	return d.seq
}

// rotateGood gives id a new good value (re-creating it if deleted).
func (d *soakDriver) rotateGood(id string) {
	n := d.next()
	v := strconv.Itoa(n)
	switch id {
	case "sk_pair":
		d.srv.PutFields(id, id, "", map[string]string{"a": "v" + v, "b": "v" + v, "v": v})
		d.want.pair = n
	case "sk_key":
		d.srv.PutSecret(id, id, "", "key-"+v)
		d.want.key = "key-" + v
	case "sk_port":
		d.srv.PutSecret(id, id, "", v)
		d.want.port = n
	case "sk_opt":
		d.srv.PutSecret(id, id, "", "opt-"+v)
		d.want.opt = "opt-" + v
	}
	if d.deleted[id] {
		d.stats.recreates++
	}
	d.deleted[id], d.bad[id] = false, false
	d.stats.good++
}

// rotateBad gives an existing secret a value that fails to decode, or
// decodes but fails Validate.
func (d *soakDriver) rotateBad() {
	id := soakIDs[d.rnd.IntN(len(soakIDs))]
	if d.deleted[id] {
		return
	}
	v := strconv.Itoa(d.next())
	switch id {
	case "sk_pair":
		switch d.rnd.IntN(5) {
		case 0: // torn: a and b differ (Validate)
			d.srv.RotateFields(id, map[string]string{"a": "v" + v, "b": "v" + v + "0", "v": v})
		case 1: // a version that does not match (Validate)
			d.srv.RotateFields(id, map[string]string{"a": "v" + v, "b": "v" + v, "v": v + "1"})
		case 2: // not a number (decoding)
			d.srv.RotateFields(id, map[string]string{"a": "v" + v, "b": "v" + v, "v": "x" + v})
		case 3: // a missing field
			d.srv.RotateFields(id, map[string]string{"a": "v" + v, "b": "v" + v})
		case 4: // not a JSON object
			d.srv.Rotate(id, "v"+v)
		}
	case "sk_key":
		d.srv.Rotate(id, "bad-"+v)
	case "sk_port":
		d.srv.Rotate(id, "p"+v)
	case "sk_opt":
		d.srv.Rotate(id, "bad-"+v)
	}
	d.bad[id] = true
	d.stats.bad++
}

// step makes one random piece of trouble. Faults come one at a time, with
// a quiet spell of a few poll intervals after each, so that the watcher
// makes progress between them (queued faults would otherwise pile up and
// keep it backing off for the whole run); a seal lasts up to 300 ms.
func (d *soakDriver) step(now time.Time) {
	if d.sealed && now.After(d.sealedUntil) {
		d.srv.Unseal()
		d.sealed = false
	}
	r := d.rnd.IntN(100)
	if r >= 67 {
		if now.Before(d.quietUntil) {
			r = d.rnd.IntN(67)
		} else {
			d.quietUntil = now.Add(time.Duration(50+d.rnd.IntN(200)) * time.Millisecond)
		}
	}
	switch {
	case r < 45:
		id := soakIDs[d.rnd.IntN(len(soakIDs))]
		if d.rnd.IntN(2) == 0 { // mend a bad secret first, half of the time
			for _, bad := range soakIDs {
				if d.bad[bad] {
					id = bad
					break
				}
			}
		}
		d.rotateGood(id)
	case r < 55:
		d.rotateBad()
	case r < 61: // delete, or re-create, a required and an optional secret
		id := []string{"sk_port", "sk_opt"}[d.rnd.IntN(2)]
		if d.deleted[id] {
			d.rotateGood(id)
		} else {
			d.srv.Delete(id)
			d.deleted[id] = true
			d.stats.deletes++
		}
	case r < 67: // revoke, or grant again, a required and an optional secret
		id := []string{"sk_key", "sk_opt"}[d.rnd.IntN(2)]
		if d.revoked[id] {
			d.srv.Grant(d.m.ID(), id)
			d.stats.grants++
		} else {
			d.srv.Revoke(d.m.ID(), id)
			d.stats.revokes++
		}
		d.revoked[id] = !d.revoked[id]
	case r < 76:
		for range 1 + d.rnd.IntN(2) {
			d.srv.FailNext([]int{500, 502, 503, 504}[d.rnd.IntN(4)])
			d.stats.failNext++
		}
	case r < 79: // a rate limit makes the watcher wait a second: rarer
		for range 1 + d.rnd.IntN(2) {
			d.srv.FailNextWithRetryAfter(429, time.Second)
			d.stats.rateLimits++
		}
	case r < 86:
		n := 1 + d.rnd.IntN(2)
		d.srv.DropNext(n)
		d.stats.drops += n
	case r < 94:
		n := 1 + d.rnd.IntN(2)
		d.lossy.lose.Add(int32(n))
		d.stats.lost += n
	default:
		if !d.sealed {
			d.srv.Seal()
			d.sealed = true
			d.sealedUntil = now.Add(time.Duration(50+d.rnd.IntN(250)) * time.Millisecond)
			d.stats.seals++
		}
	}
}

// repair ends every fault and gives bad, deleted and revoked secrets a good
// value, so that the configuration can catch up with want. Secrets whose
// last value is good keep it: a rotation lost on the way must show here.
func (d *soakDriver) repair() {
	if d.sealed {
		d.srv.Unseal()
		d.sealed = false
	}
	d.lossy.lose.Store(0)
	// Faults still queued strike whatever request comes next: use them up.
	for range 100 {
		if _, err := d.drainer.ListSecrets(context.Background()); err == nil {
			break
		}
	}
	for _, id := range soakIDs {
		if d.revoked[id] {
			d.srv.Grant(d.m.ID(), id)
			d.revoked[id] = false
			d.stats.grants++
		}
		if d.bad[id] || d.deleted[id] {
			d.rotateGood(id)
		}
	}
}

func (w soakWant) matches(c *soakConfig) bool {
	return c.Pair.V == w.pair && c.Key.Reveal() == w.key && c.Port == w.port && c.Opt == w.opt
}

func (w soakWant) String() string {
	return fmt.Sprintf("pair v%d, %s, port %d, %s", w.pair, w.key, w.port, w.opt)
}

// soakProblems collects what goes wrong on other goroutines, reported once
// the run is over.
type soakProblems struct {
	mu   sync.Mutex
	list []string
	n    int
}

func (p *soakProblems) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if len(p.list) < 20 {
		p.list = append(p.list, fmt.Sprintf(format, args...))
	}
}

func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// heapFlat is the generous bound: a leak grows without bound, noise does
// not double the heap.
func heapFlat(before, after uint64) bool { return after < 2*before+4<<20 }

func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test: skipped with -short")
	}
	// Not parallel: goroutine and heap figures are process-wide.
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SIKKERKEY_SOAK_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (SIKKERKEY_SOAK_SEED=%d replays the same actions; timing still varies)", seed, seed)

	ignore := goleak.IgnoreCurrent()
	goroutinesBefore := runtime.NumGoroutine()
	heapBefore := heapInuse()
	start := time.Now()

	// On an early failure, close what runs. The list is emptied before the
	// last heap figure, so that it keeps nothing reachable.
	var closers []func()
	t.Cleanup(func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	})

	srv := sikkerkeytest.NewServer()
	closers = append(closers, srv.Close)
	m := srv.AddMachine("soak")
	lossy := &lossyTransport{base: srv.HTTPClient().Transport}
	client, err := m.Client(
		sdk.WithHTTPClient(&http.Client{Transport: lossy}),
		sdk.WithMinPollInterval(5*time.Millisecond),
		sdk.WithRetryBackoff(time.Millisecond),
		sdk.WithMaxRetryAfter(20*time.Millisecond),
		sdk.WithTimeout(5*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	closers = append(closers, func() { _ = client.Close() })
	drainer, err := srv.AddMachine("drainer").Client(sdk.WithRetryBackoff())
	if err != nil {
		t.Fatal(err)
	}
	closers = append(closers, func() { _ = drainer.Close() })
	d := &soakDriver{
		rnd: rand.New(rand.NewPCG(seed, seed^0x5eed)), srv: srv, m: m, lossy: lossy, drainer: drainer,
		bad: map[string]bool{}, deleted: map[string]bool{}, revoked: map[string]bool{},
	}
	for _, id := range soakIDs {
		d.rotateGood(id)
	}
	d.stats = soakStats{}

	w, err := sikkerkey.Watch[soakConfig](context.Background(),
		sikkerkey.WithClient(client), sikkerkey.WithPollInterval(soakPollInterval))
	if err != nil {
		t.Fatal(err)
	}
	closers = append(closers, func() { _ = w.Close() })
	if !d.want.matches(w.Current()) {
		t.Fatalf("first load %+v, want %v", *w.Current(), d.want)
	}

	var problems soakProblems
	var publishes atomic.Int64
	var errCounts sync.Map // category -> *atomic.Int64
	count := func(category string) {
		c, _ := errCounts.LoadOrStore(category, new(atomic.Int64))
		c.(*atomic.Int64).Add(1)
	}
	prev := w.Current()
	last := versionsOf(prev)
	lastOpt := last.opt
	w.OnChange(func(old, new *soakConfig) {
		publishes.Add(1)
		if old != prev {
			problems.add("OnChange out of order: old is not the previous new")
		}
		prev = new
		if err := soakInvalid(new); err != nil {
			problems.add("published a bad configuration: %v", err)
			return
		}
		v := versionsOf(new)
		if v.pair < last.pair || v.key < last.key || v.port < last.port || (v.opt != 0 && v.opt < lastOpt) {
			problems.add("a version went back: %+v after %+v", v, last)
		}
		if v.opt != 0 {
			lastOpt = v.opt
		}
		last = v
	})
	w.OnError(func(err error) {
		var apiErr *sdk.APIError
		switch {
		case strings.HasPrefix(err.Error(), "sikkerkey: polling"):
			count("poll failed")
		case errors.Is(err, errSoakInvalid):
			count("reload rejected by Validate")
		case errors.Is(err, sikkerkey.ErrDecode):
			count("reload did not decode")
		case errors.Is(err, sikkerkey.ErrMissing):
			count("required secret deleted or field missing")
		case errors.Is(err, sdk.ErrAccessDenied):
			count("required secret revoked")
		case errors.As(err, &apiErr):
			count("re-read failed")
		default:
			count("other: " + err.Error())
		}
	})

	// Readers: never nil, never torn, never bad, never modified once seen.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var reads atomic.Int64
	for range soakReaders {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var held *soakConfig
			var copyOfHeld soakConfig
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := w.Current()
				if err := soakInvalid(c); err != nil {
					problems.add("reader saw a bad configuration: %v", err)
					return
				}
				if held != nil && *held != copyOfHeld {
					problems.add("a configuration was modified after it was returned by Current")
					return
				}
				held, copyOfHeld = c, *c
				reads.Add(1)
				if i%32 == 31 {
					time.Sleep(100 * time.Microsecond) // leave the watcher some CPU
				}
			}
		}()
	}

	// checkpoint repairs the server and waits for the configuration to
	// catch up with the last good values.
	var checkpoints int
	var slowest time.Duration
	checkpoint := func(what string) bool {
		if d.rnd.IntN(2) == 0 {
			// The last rotation before the quiet spell has its poll answer
			// lost on the way: the server reports it only once.
			d.rotateGood(soakIDs[d.rnd.IntN(len(soakIDs))])
			d.lossy.lose.Add(1)
			d.stats.lost++
			time.Sleep(5 * soakPollInterval)
		}
		d.repair()
		begin := time.Now()
		deadline := begin.Add(soakPublishTimeout)
		for !d.want.matches(w.Current()) {
			if time.Now().After(deadline) {
				t.Errorf("%s: after %v the configuration is %+v (versions %+v), want %v",
					what, soakPublishTimeout, *w.Current(), versionsOf(w.Current()), d.want)
				return false
			}
			time.Sleep(2 * time.Millisecond)
		}
		checkpoints++
		slowest = max(slowest, time.Since(begin))
		return true
	}

	heapWarm := uint64(0)
	chaosStart := time.Now()
	nextCheckpoint := chaosStart.Add(soakCheckpointEvery)
	for time.Since(chaosStart) < soakDuration {
		d.step(time.Now())
		time.Sleep(time.Duration(1+d.rnd.IntN(15)) * time.Millisecond)
		if time.Now().After(nextCheckpoint) {
			if !checkpoint(fmt.Sprintf("checkpoint %d", checkpoints+1)) {
				break
			}
			if heapWarm == 0 {
				heapWarm = heapInuse() // the first checkpoint: warmed up
			}
			nextCheckpoint = time.Now().Add(soakCheckpointEvery)
		}
	}
	chaos := time.Since(chaosStart)
	if !t.Failed() {
		checkpoint("final checkpoint")
	}
	heapEnd := heapInuse()
	close(stop)
	readers.Wait()

	counts := srv.RequestCounts()
	_ = w.Close()
	_ = client.Close()
	_ = drainer.Close()
	srv.Close()

	settle := time.Now()
	for runtime.NumGoroutine() > goroutinesBefore && time.Since(settle) < 5*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	goroutinesAfter := runtime.NumGoroutine()
	goleak.VerifyNone(t, ignore)
	// What is left is printed below; nothing of the watcher, the client or
	// the server may stay reachable for the last heap figure.
	stats, lost := d.stats, lossy.lost.Load()
	closers = nil
	heapAfter := heapInuse()

	problems.mu.Lock()
	for _, p := range problems.list {
		t.Error(p)
	}
	if problems.n > len(problems.list) {
		t.Errorf("... and %d more problems", problems.n-len(problems.list))
	}
	problems.mu.Unlock()
	if goroutinesAfter > goroutinesBefore {
		t.Errorf("goroutines: %d before, %d after", goroutinesBefore, goroutinesAfter)
	}
	if heapWarm != 0 && !heapFlat(heapWarm, heapEnd) {
		t.Errorf("heap in use grew while watching: %d KiB after warm-up, %d KiB at the end", heapWarm>>10, heapEnd>>10)
	}
	if !heapFlat(heapBefore, heapAfter) {
		t.Errorf("heap in use grew: %d KiB before, %d KiB after", heapBefore>>10, heapAfter>>10)
	}
	if publishes.Load() < int64(checkpoints) {
		t.Errorf("only %d publishes for %d checkpoints", publishes.Load(), checkpoints)
	}

	s := stats
	t.Logf("duration %v of chaos (%v in all), poll interval %v: %d polls (%.0f intervals), %d reads, %d exports",
		chaos.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), soakPollInterval,
		counts.Polls, float64(chaos)/float64(soakPollInterval), counts.Reads, counts.Exports)
	t.Logf("driver: %d good and %d bad rotations, %d deletes, %d re-creations, %d revokes, %d grants, %d injected failures (500/502/503/504), %d rate limits, %d dropped connections, %d lost answers (%d lost), %d seals",
		s.good, s.bad, s.deletes, s.recreates, s.revokes, s.grants, s.failNext, s.rateLimits, s.drops, s.lost, lost, s.seals)
	t.Logf("watcher: %d publishes, %d checkpoints (slowest caught up in %v), %d reads of Current by %d readers",
		publishes.Load(), checkpoints, slowest.Round(time.Millisecond), reads.Load(), soakReaders)
	var total int64
	errCounts.Range(func(k, v any) bool {
		n := v.(*atomic.Int64).Load()
		total += n
		t.Logf("  errors reported: %5d %s", n, k)
		return true
	})
	t.Logf("errors reported: %d in all", total)
	t.Logf("goroutines: %d before, %d after; heap in use: %d KiB before, %d KiB warm, %d KiB at the end of the chaos, %d KiB after",
		goroutinesBefore, goroutinesAfter, heapBefore>>10, heapWarm>>10, heapEnd>>10, heapAfter>>10)
}

// newLossyClient returns a client for m whose answers lossy can lose after
// the server has processed the request.
func newLossyClient(t *testing.T, srv *sikkerkeytest.Server, m *sikkerkeytest.Machine, opts ...sdk.Option) (*sdk.Client, *lossyTransport) {
	t.Helper()
	lossy := &lossyTransport{base: srv.HTTPClient().Transport}
	opts = append([]sdk.Option{
		sdk.WithHTTPClient(&http.Client{Transport: lossy}),
		sdk.WithMinPollInterval(5 * time.Millisecond),
		sdk.WithRetryBackoff(time.Millisecond),
	}, opts...)
	c, err := m.Client(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, lossy
}

// TestPollAnswerLost is the regression test of the first bug the soak
// found: the server reports a change once, and a poll answer lost after
// the server processed the poll (then retried with success, or not) lost
// the rotation for good.
func TestPollAnswerLost(t *testing.T) {
	t.Parallel()
	srv := sikkerkeytest.NewServer()
	t.Cleanup(srv.Close)
	m := srv.AddMachine("lossy")
	srv.PutSecret("sk_a", "a", "", "v1")
	srv.PutSecret("sk_b", "b", "", "v1")
	ctx := context.Background()
	ids := []string{"sk_a", "sk_b"}
	poll := func(c *sdk.Client, want map[string]sdk.WatchStatus) {
		t.Helper()
		got, err := c.Poll(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("poll: %v, want %v", got, want)
		}
	}
	changed := map[string]sdk.WatchStatus{"sk_a": sdk.WatchChanged, "sk_b": sdk.WatchChanged}
	none := map[string]sdk.WatchStatus{}

	// Lost, then retried with success.
	c, lossy := newLossyClient(t, srv, m)
	poll(c, none) // the baseline
	srv.Rotate("sk_a", "v2")
	lossy.lose.Store(1)
	poll(c, changed) // sk_a changed; sk_b may have
	poll(c, none)

	// Lost without retries: the next poll makes up for it.
	c, lossy = newLossyClient(t, srv, m, sdk.WithRetryBackoff())
	poll(c, none)
	srv.Rotate("sk_a", "v3")
	lossy.lose.Store(1)
	if _, err := c.Poll(ctx, ids); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("lost answer: %v", err)
	}
	poll(c, changed)
	poll(c, none)

	// A server error may hide a processed poll; a refusal does not.
	for _, status := range []int{500, 502, 503, 504} {
		srv.FailNext(status)
		if _, err := c.Poll(ctx, ids); err == nil {
			t.Fatal("no error")
		}
		poll(c, changed)
	}
	for _, status := range []int{400, 401, 403, 429} {
		srv.FailNext(status)
		if _, err := c.Poll(ctx, ids); err == nil {
			t.Fatal("no error")
		}
		poll(c, none)
	}
	// A deletion whose report is lost shows as a change (the re-read finds
	// the secret gone); the report is not made again.
	srv.Delete("sk_b")
	lossy.lose.Store(1)
	if _, err := c.Poll(ctx, ids); err == nil {
		t.Fatal("no error")
	}
	poll(c, changed)
	poll(c, none)
}

// TestWatchPollAnswerLost: a Watcher publishes a rotation, a deletion and
// a re-creation whose poll answers were lost on the way. The last one was
// the second bug: a secret found gone after a reported change (not a
// reported deletion) was not read again, and its re-creation, which the
// server does not report, was never published.
func TestWatchPollAnswerLost(t *testing.T) {
	t.Parallel()
	srv := sikkerkeytest.NewServer()
	t.Cleanup(srv.Close)
	m := srv.AddMachine("lossy")
	srv.PutSecret("sk_key", "key", "", "k1")
	srv.PutSecret("sk_opt", "opt", "", "o1")
	c, lossy := newLossyClient(t, srv, m)
	type config struct {
		Key string `sikkerkey:"sk_key"`
		Opt string `sikkerkey:"sk_opt,optional"`
	}
	w, err := sikkerkey.Watch[config](context.Background(), sikkerkey.WithClient(c), sikkerkey.WithPollInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	await := func(what string, want config) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for *w.Current() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the configuration is %+v, want %+v (%d answers lost)", what, *w.Current(), want, lossy.lost.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Only the watcher uses the client, and it has nothing to read: the
	// next request is the poll that carries the news.
	srv.Rotate("sk_key", "k2")
	lossy.lose.Store(1)
	await("rotation", config{Key: "k2", Opt: "o1"})
	srv.Delete("sk_opt")
	lossy.lose.Store(1)
	await("deletion", config{Key: "k2"})
	srv.PutSecret("sk_opt", "opt", "", "o2")
	await("re-creation", config{Key: "k2", Opt: "o2"})
}
