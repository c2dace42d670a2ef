package sikkerkeytest_test

import (
	"context"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

func TestRequestCounts(t *testing.T) {
	t.Parallel()
	srv := sikkerkeytest.NewServer()
	defer srv.Close()
	srv.PutSecret("sk_a", "a", "p", "v")
	c, err := srv.AddMachine("m").Client()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	_, _ = c.GetSecret(ctx, "sk_a")
	_, _ = c.GetSecret(ctx, "sk_missing") // 404 still counts
	_, _ = c.ListSecrets(ctx)
	_, _ = c.ListSecretsByProject(ctx, "p")
	_, _ = c.Export(ctx, "")
	_, _ = c.Poll(ctx, []string{"sk_a"})
	want := sikkerkeytest.RequestCounts{Reads: 2, Lists: 2, Exports: 1, Polls: 1}
	if got := srv.RequestCounts(); got != want {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
}
