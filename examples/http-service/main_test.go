package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestHTTPService(t *testing.T) {
	got := exampletest.Output(t, run, []string{
		"OnChange: credentials v1 → v2",
		"OnChange: credentials v2 → v3",
		": 0 failed, 0 used older credentials after a swap.",
		"Shut the HTTP server down gracefully",
	}, passwords)
	if strings.Contains(got, "OnError") {
		t.Errorf("a background reload failed:\n%s", got)
	}
	// Every credentials version served requests: the load ran across both swaps.
	for v := 1; v <= 3; v++ {
		m := regexp.MustCompile(`served with credentials v` + strconv.Itoa(v) + `: (\d+)`).FindStringSubmatch(got)
		if m == nil || m[1] == "0" {
			t.Errorf("no request served with credentials v%d:\n%s", v, got)
		}
	}
}
