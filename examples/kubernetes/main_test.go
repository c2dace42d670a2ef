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

func TestKubernetes(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"..data                           -> ..20",
		"sk_db_prod                       -> ..data/sk_db_prod",
		"{APIKey:[REDACTED] LogLevel:info DB:{Host:postgres.prod.svc Port:5432 Password:[REDACTED]}}",
		"LogLevel: info → debug",
		"DB.Password: (rotated)",
		"OnChange ran once for the whole swap",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "OnError") {
		t.Errorf("a reload failed during the swap:\n%s", got)
	}
	for _, secret := range []string{apiKey, dbPassword, newPassword} {
		if strings.Contains(got, secret) {
			t.Errorf("output contains the value %q:\n%s", secret, got)
		}
	}
}
