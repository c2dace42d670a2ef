package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestQuickstart(t *testing.T) {
	t.Setenv("SIKKERKEY_HOME", "") // run sets it; restored after the test
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"APIKey:[REDACTED]",
		"Password:[REDACTED]",
		"Port:5432",
		"Workers:8 Timeout:5s Debug:false",
		"DB.Port: 5432 → 6432",
		"DB.Password: (rotated)",
		"DB.Port (secret sk_db_prod, field port",
		"DB.Port is still 6432",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// The OnChange for the bad rotation must not have fired.
	if n := strings.Count(got, "OnChange:"); n != 1 {
		t.Errorf("OnChange printed %d times, want 1:\n%s", n, got)
	}
	for _, secret := range []string{apiKey, dbPassword, newPassword, badPort} {
		if strings.Contains(got, secret) {
			t.Errorf("output contains the value %q:\n%s", secret, got)
		}
	}
}
