package sikkerkeytest_test

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

// A test of code that reads a secret: set up the server, hand a client to
// the code under test, check the result.
func Example() {
	srv := sikkerkeytest.NewServer()
	defer srv.Close()
	m := srv.AddMachine("ci")
	srv.PutSecret("sk_api_key", "API Key", "prj_web", "k-123")

	client := must(m.Client())
	defer client.Close()
	key, err := client.GetSecret(context.Background(), "sk_api_key")
	fmt.Println(key, err)
	// Output: k-123 <nil>
}

// Simulating an outage: the first attempt gets 503, the client retries.
func ExampleServer_FailNext() {
	srv := sikkerkeytest.NewServer()
	defer srv.Close()
	m := srv.AddMachine("ci")
	srv.PutSecret("sk_api_key", "API Key", "", "k-123")

	client := must(m.Client(sdk.WithRetryBackoff(time.Millisecond)))
	defer client.Close()
	srv.FailNext(503)
	key, err := client.GetSecret(context.Background(), "sk_api_key")
	fmt.Println(key, err)
	for _, r := range srv.Requests() {
		fmt.Println(r.Method, r.Path, r.Status)
	}
	// Output:
	// k-123 <nil>
	// GET /v1/secret/sk_api_key 503
	// GET /v1/secret/sk_api_key 200
}

// Access rules: a revoked grant is 403, which the sdk reports as an
// *sdk.APIError.
func ExampleServer_Revoke() {
	srv := sikkerkeytest.NewServer()
	defer srv.Close()
	m := srv.AddMachine("ci")
	srv.PutSecret("sk_db", "DB", "", "pw")
	srv.Revoke(m.ID(), "sk_db")

	client := must(m.Client())
	defer client.Close()
	_, err := client.GetSecret(context.Background(), "sk_db")
	var apiErr *sdk.APIError
	fmt.Println(errors.As(err, &apiErr) && apiErr.StatusCode == 403)
	// Output: true
}

// Official SDKs and the CLI find the machine through files on disk.
func ExampleMachine_WriteIdentity() {
	srv := sikkerkeytest.NewServer()
	defer srv.Close()
	m := srv.AddMachine("ci")
	srv.PutSecret("sk_api_key", "API Key", "", "k-123")

	home, err := os.MkdirTemp("", "sikkerkey-home")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(home)
	if _, err := m.WriteIdentity(home); err != nil {
		log.Fatal(err)
	}
	// Run the program under test with SIKKERKEY_HOME=home; here, the sdk.
	os.Setenv("SIKKERKEY_HOME", home)
	defer os.Unsetenv("SIKKERKEY_HOME")
	client, err := sdk.New("")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	key, err := client.GetSecret(context.Background(), "sk_api_key")
	fmt.Println(key, err)
	// Output: k-123 <nil>
}

// Enrollment without any file: BootstrapInMemory with a token.
func ExampleServer_NewEnrollmentToken() {
	srv := sikkerkeytest.NewServer()
	defer srv.Close()
	srv.PutSecret("sk_api_key", "API Key", "", "k-123")
	token := srv.NewEnrollmentToken(sikkerkeytest.TokenUses(10))

	ctx := context.Background()
	client, err := sdk.BootstrapInMemory(ctx, srv.VaultID(), token,
		sdk.WithAPIURL(srv.URL()), sdk.WithHTTPClient(srv.HTTPClient()), sdk.WithHostname("worker-1"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	key, err := client.GetSecret(ctx, "sk_api_key")
	fmt.Println(key, err, srv.Machine(client.MachineID()).Name())
	// Output: k-123 <nil> worker-1
}

// must stops the example on an error.
func must(c *sdk.Client, err error) *sdk.Client {
	if err != nil {
		log.Fatal(err)
	}
	return c
}
