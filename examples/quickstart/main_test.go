package main

import (
	"strings"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestQuickstart(t *testing.T) {
	t.Setenv("SIKKERKEY_HOME", "") // run sets it; restored after the test
	got := exampletest.Output(t, run, []string{
		"APIKey:[REDACTED]",
		"Password:[REDACTED]",
		"Port:5432",
		"Workers:8 Timeout:5s Debug:false",
		"DB.Port: 5432 → 6432",
		"DB.Password: (rotated)",
		"DB.Port (secret sk_db_prod, field port",
		"DB.Port is still 6432",
	}, []string{apiKey, dbPassword, newPassword, badPort})
	// The OnChange for the bad rotation must not have fired.
	if n := strings.Count(got, "OnChange:"); n != 1 {
		t.Errorf("OnChange printed %d times, want 1:\n%s", n, got)
	}
}
