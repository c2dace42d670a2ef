package main

import (
	"testing"

	"github.com/sikkerkey-go/sikkerkey/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestKoanfExample(t *testing.T) {
	exampletest.Output(t, run, []string{
		"loaded:  listen=:8080 database=db.internal:5432 timeout=5s password=[REDACTED]",
		"reloaded: listen=:8080 database=db.internal:6432",
		"database.port: 5432 → 6432; password rotated: true",
		"the first config is untouched: port 5432",
	}, []string{apiKey, dbPassword, newPassword})
}
