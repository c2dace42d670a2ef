// Package readmecheck type-checks the Go code blocks of a README against
// the real packages, so documentation cannot drift from the API. The root
// module checks the core's blocks; each adapter module checks its own,
// since only it can resolve koanf or viper.
package readmecheck

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"regexp"
	"strings"
	"testing"
)

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// Run type-checks the Go blocks of the markdown file at path that keep
// selects, after prelude (see Check), failing when fewer than minBlocks are
// found. It is skipped under -short: type-checking from source takes
// seconds.
func Run(t *testing.T, path string, keep func(block string) bool, minBlocks int, prelude string) {
	t.Helper()
	if testing.Short() {
		t.Skip("type-checks from source, which takes seconds")
	}
	blocks := Blocks(t, path, keep)
	if len(blocks) < minBlocks {
		t.Fatalf("found %d Go blocks in %s, want at least %d", len(blocks), path, minBlocks)
	}
	Check(t, prelude, blocks)
}

// Blocks returns the Go code blocks of the markdown file at path for which
// keep returns true.
func Blocks(t testing.TB, path string, keep func(block string) bool) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range goBlock.FindAllStringSubmatch(string(data), -1) {
		if keep(m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// Check type-checks each block after prelude, a package clause with the
// imports and declarations the blocks may use. A block that is not a list
// of declarations is checked as the body of a func returning error.
// Unused variables and imports are allowed: blocks are excerpts.
func Check(t *testing.T, prelude string, blocks []string) {
	t.Helper()
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "source", nil)
	for i, b := range blocks {
		f, err := parser.ParseFile(fset, "block.go", prelude+b, 0)
		if err != nil {
			if f, err = parser.ParseFile(fset, "block.go", prelude+"func _() error {\n"+b+"\nreturn nil\n}\n", 0); err != nil {
				t.Errorf("README Go block %d does not parse: %v\n%s", i+1, err, b)
				continue
			}
		}
		var hard []string
		conf := types.Config{Importer: imp, Error: func(err error) {
			if te, ok := err.(types.Error); ok && te.Soft &&
				(strings.Contains(te.Msg, "declared and not used") || strings.Contains(te.Msg, "imported and not used")) {
				return
			}
			hard = append(hard, err.Error())
		}}
		_, _ = conf.Check("readme", fset, []*ast.File{f}, nil)
		if len(hard) > 0 {
			t.Errorf("README Go block %d does not compile:\n%s\n%s", i+1, strings.Join(hard, "\n"), b)
		}
	}
}
