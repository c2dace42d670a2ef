package sikkerkey

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// maxBackoff caps the wait after repeated poll failures (unless the
// interval itself is longer).
const maxBackoff = 5 * time.Minute

// schedule decides when a watcher polls next. A fleet of processes started
// at the same instant must not poll in lockstep: the first poll comes at a
// uniformly random point of the first interval, so the fleet's polls are
// spread evenly over it, and every later wait is the interval plus up to a
// tenth of it, so phases keep drifting apart rather than together. Waits
// never drop below the interval, which the server enforces.
type schedule struct {
	interval time.Duration
	jitter   func(n int64) int64 // uniform in [0, n); n > 0
	failures int
}

func newSchedule(interval time.Duration, jitter func(int64) int64) *schedule {
	if jitter == nil {
		jitter = rand.Int64N
	}
	return &schedule{interval: interval, jitter: jitter}
}

// spread returns a uniformly random duration in [0, d).
func (s *schedule) spread(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(s.jitter(int64(d)))
}

// first is the wait before the first poll.
func (s *schedule) first() time.Duration { return s.spread(s.interval) }

// next is the wait after a poll that returned err. After a rate limit it
// honours the server's Retry-After; after other failures it backs off
// exponentially (doubling from the interval up to maxBackoff).
func (s *schedule) next(err error) time.Duration {
	if err == nil {
		s.failures = 0
		return s.interval + s.spread(s.interval/10)
	}
	s.failures++
	wait := s.interval << min(s.failures, 6)
	wait = min(wait, max(maxBackoff, s.interval))
	var apiErr *sdk.APIError
	if errors.Is(err, sdk.ErrRateLimited) && errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		wait = max(apiErr.RetryAfter, s.interval)
	}
	return wait + s.spread(wait/10)
}
