package sdk_test

import (
	"testing"

	"go.uber.org/goleak"
)

// No test may leave a goroutine behind: watchers, retries and connections
// all end with Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
