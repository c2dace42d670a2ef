package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// A service keeps starting while the SikkerKey API is unreachable, from the
// last value it read, but a deleted secret is never resurrected.
func ExampleWithCache() {
	srv := sikkerkeytest.NewServer()
	defer srv.Close()
	srv.PutSecret("sk_db_password", "DB password", "", "hunter2")
	machine := srv.AddMachine("worker")

	// Tests only: the default directory is $SIKKERKEY_HOME/vaults/<vaultId>/cache.
	dir, err := os.MkdirTemp("", "sikkerkey-cache")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	client, err := machine.Client(
		sdk.WithRetryBackoff(), // no retries, to keep the example fast
		sdk.WithCache(sdk.CacheOptions{
			MaxAge: 24 * time.Hour,
			Dir:    dir,
			OnFallback: func(secretID string, cachedAt time.Time) {
				fmt.Println("served from the offline cache:", secretID)
			},
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()

	value, err := client.GetSecret(ctx, "sk_db_password") // live, and cached
	fmt.Println(value, err)

	srv.Seal() // the API answers 503
	value, err = client.GetSecret(ctx, "sk_db_password")
	fmt.Println(value, err)

	srv.Unseal()
	srv.Delete("sk_db_password") // a 404 is never masked
	_, err = client.GetSecret(ctx, "sk_db_password")
	fmt.Println(errors.Is(err, sdk.ErrNotFound))
	// Output:
	// hunter2 <nil>
	// served from the offline cache: sk_db_password
	// hunter2 <nil>
	// true
}
