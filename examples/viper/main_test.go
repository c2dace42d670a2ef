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

func TestViperExample(t *testing.T) {
	got := exampletest.Output(t, run, []string{
		"loaded:   listen=:8080 database=db.internal:5432 timeout=5s password=[REDACTED]",
		"reloaded: listen=:8080 database=db.internal:6432",
		"database.port: 5432 → 6432; password rotated: true",
		"file changed: listen=:9090 database=db.internal:6432",
		"the first config is untouched: listen=:8080 database=db.internal:5432",
	}, []string{apiKey, dbPassword, newPassword})
	if strings.Contains(got, "reload failed") {
		t.Errorf("a reload failed:\n%s", got)
	}
}
