package sikkerkeykoanf_test

import (
	"strings"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/internal/readmecheck"
)

// TestREADMECodeCompiles type-checks the koanf blocks of the repository's
// README.md against this module's real dependencies.
func TestREADMECodeCompiles(t *testing.T) {
	readmecheck.Run(t, "../../README.md", func(b string) bool { return strings.Contains(b, "sikkerkeykoanf.") }, 1, `package readme

import (
	"log"
	"sync/atomic"

	"github.com/knadh/koanf/v2"
	"github.com/sikkerkey-go/sikkerkey/adapters/koanf"
	"github.com/sikkerkey-go/sikkerkey/sdk"
)

var client *sdk.Client

type Config struct{ Database struct{ Host string } }

var _ atomic.Bool
`)
}
