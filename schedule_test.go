package sikkerkey

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// TestScheduleSpreadsAFleet simulates, on a virtual clock, 10,000 watchers
// started at the same instant with a 15 s interval, and checks that their
// polls are spread evenly over time rather than bunched: during the first
// interval and during a window ten minutes later, no second of the interval
// gets more than 25% above its fair share of polls.
func TestScheduleSpreadsAFleet(t *testing.T) {
	t.Parallel()
	const (
		fleet    = 10_000
		interval = 15 * time.Second
	)
	rng := rand.New(rand.NewPCG(1, 2))
	next := make([]time.Duration, fleet) // virtual time of each watcher's next poll
	scheds := make([]*schedule, fleet)
	for i := range fleet {
		scheds[i] = newSchedule(interval, rng.Int64N)
		next[i] = scheds[i].first()
	}
	histogram := func(from time.Duration) []int {
		buckets := make([]int, interval/time.Second)
		for i := range fleet {
			// Run watcher i until its next poll is past the window.
			for next[i] < from+interval {
				if next[i] >= from {
					buckets[(next[i]-from)/time.Second]++
				}
				next[i] += scheds[i].next(nil)
			}
		}
		return buckets
	}
	fair := fleet / int(interval/time.Second)
	for _, from := range []time.Duration{0, 10 * time.Minute} {
		buckets := histogram(from)
		total := 0
		for sec, n := range buckets {
			total += n
			if n > fair*5/4 || n < fair*3/4 {
				t.Errorf("window at %v: second %d has %d polls, fair share %d: %v", from, sec, n, fair, buckets)
			}
		}
		// Each watcher polls about once per interval (waits are 1x to 1.1x).
		if total < fleet*9/10 || total > fleet {
			t.Errorf("window at %v: %d polls by %d watchers", from, total, fleet)
		}
	}
}

func TestScheduleWaits(t *testing.T) {
	t.Parallel()
	const interval = 15 * time.Second
	maxJitter := func(n int64) int64 { return n - 1 }
	noJitter := func(int64) int64 { return 0 }

	s := newSchedule(interval, noJitter)
	if s.first() != 0 || s.next(nil) != interval {
		t.Error("no jitter")
	}
	s = newSchedule(interval, maxJitter)
	if d := s.first(); d != interval-1 {
		t.Errorf("first %v", d)
	}
	if d := s.next(nil); d != interval+interval/10-1 {
		t.Errorf("next %v", d)
	}

	s = newSchedule(interval, noJitter)
	fail := errors.New("network down")
	var waits []time.Duration
	for range 8 {
		waits = append(waits, s.next(fail))
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("backoff %v, want %v", waits, want)
	}
	if s.next(nil) != interval {
		t.Error("success resets the backoff")
	}

	limited := fmt.Errorf("poll: %w", &sdk.APIError{StatusCode: 429, RetryAfter: 45 * time.Second})
	if !errors.Is(limited, sdk.ErrRateLimited) {
		t.Fatal("APIError 429 should match ErrRateLimited")
	}
	if d := s.next(limited); d != 45*time.Second {
		t.Errorf("Retry-After 45s: %v", d)
	}
	short := &sdk.APIError{StatusCode: 429, RetryAfter: time.Second}
	if d := s.next(short); d != interval {
		t.Errorf("Retry-After below the interval: %v", d)
	}
	if d := newSchedule(time.Hour, noJitter).next(fail); d != time.Hour { // the cap is max(5m, interval)
		t.Errorf("long interval backoff: %v", d)
	}
}
