package sikkerkeyviper_test

import (
	"strings"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/internal/readmecheck"
)

// TestREADMECodeCompiles type-checks the viper blocks of the repository's
// README.md against this module's real dependencies.
func TestREADMECodeCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks from source, which takes seconds")
	}
	blocks := readmecheck.Blocks(t, "../../README.md", func(b string) bool { return strings.Contains(b, "sikkerkeyviper.") })
	if len(blocks) == 0 {
		t.Fatal("README.md has no viper block")
	}
	readmecheck.Check(t, `package readme

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
`, blocks)
}
