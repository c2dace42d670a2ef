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

func TestKubernetes(t *testing.T) {
	got := exampletest.Output(t, run, []string{
		"..data                           -> ..20",
		"sk_db_prod                       -> ..data/sk_db_prod",
		"{APIKey:[REDACTED] LogLevel:info DB:{Host:postgres.prod.svc Port:5432 Password:[REDACTED]}}",
		"LogLevel: info → debug",
		"DB.Password: (rotated)",
		"OnChange ran once for the whole swap",
	}, []string{apiKey, dbPassword, newPassword})
	if strings.Contains(got, "OnError") {
		t.Errorf("a reload failed during the swap:\n%s", got)
	}
}
