package sikkerkeyviper_test

import (
	"strings"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/internal/readmecheck"
)

// TestREADMECodeCompiles type-checks the viper blocks of the repository's
// README.md against this module's real dependencies.
func TestREADMECodeCompiles(t *testing.T) {
	readmecheck.Run(t, "../../README.md", func(b string) bool { return strings.Contains(b, "sikkerkeyviper.") }, 1, `package readme

import (
	"context"
	"log"

	"github.com/spf13/viper"
	"github.com/sikkerkey-go/sikkerkey/adapters/viper"
	"github.com/sikkerkey-go/sikkerkey/sdk"
)

var (
	ctx    context.Context
	client *sdk.Client
)

type Config struct{ Name string }
`)
}
