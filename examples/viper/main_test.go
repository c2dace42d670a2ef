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

func TestViperExample(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"loaded:   listen=:8080 database=db.internal:5432 timeout=5s password=[REDACTED]",
		"reloaded: listen=:8080 database=db.internal:6432",
		"database.port: 5432 → 6432; password rotated: true",
		"file changed: listen=:9090 database=db.internal:6432",
		"the first config is untouched: listen=:8080 database=db.internal:5432",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "reload failed") {
		t.Errorf("a reload failed:\n%s", got)
	}
	for _, secret := range []string{apiKey, dbPassword, newPassword} {
		if strings.Contains(got, secret) {
			t.Errorf("output contains the value %q:\n%s", secret, got)
		}
	}
}
