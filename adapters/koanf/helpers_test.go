package sikkerkeykoanf_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The fixture (adapttest.NewFixture) and the shared tests of fetching and
// watching live in adapters/internal/adapt.

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// event is one Watch callback.
type event struct {
	ev  any
	err error
}

// recorder returns a Watch callback that sends what it gets to a channel.
func recorder() (func(any, error), chan event) {
	ch := make(chan event, 100)
	return func(ev any, err error) { ch <- event{ev, err} }, ch
}
