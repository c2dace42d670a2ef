// Package exampletest checks the example programs under examples/: each
// has a run(ctx, io.Writer) error that its main wraps, and its test runs it
// and reads what a newcomer would see.
package exampletest

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// Output runs an example and returns what it printed. The run must
// succeed, the output must contain every line fragment of want, and it must
// contain none of secrets (the values the example stored): an example that
// printed one would teach the wrong thing.
func Output(t *testing.T, run func(context.Context, io.Writer) error, want, secrets []string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("output lacks %q:\n%s", w, got)
		}
	}
	for _, s := range secrets {
		if strings.Contains(got, s) {
			t.Errorf("output contains the secret value %q:\n%s", s, got)
		}
	}
	return got
}
