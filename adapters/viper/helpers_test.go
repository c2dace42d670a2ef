package sikkerkeyviper_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The fixture (adapttest.NewFixture) and the shared tests of fetching and
// watching live in adapters/internal/adapt.

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
