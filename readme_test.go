package sikkerkey_test

import (
	"strings"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/internal/readmecheck"
)

// readmePrelude is what the README's Go blocks may use without declaring it.
const readmePrelude = `package readme

import (
	"context"
	"errors"
	"fmt"
	"log"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
	"github.com/sikkerkey-go/sikkerkey/source"
)

var ctx context.Context

type Config struct{ Timeout time.Duration }

var cfg Config
`

// TestREADMECodeCompiles type-checks every Go block of README.md except the
// adapters' (their modules check those).
func TestREADMECodeCompiles(t *testing.T) {
	t.Parallel()
	readmecheck.Run(t, "README.md", func(b string) bool {
		return !strings.Contains(b, "sikkerkeykoanf.") && !strings.Contains(b, "sikkerkeyviper.")
	}, 6, readmePrelude)
}
