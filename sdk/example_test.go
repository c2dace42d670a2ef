package sdk_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"sort"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// exampleServer stands in for SikkerKey in the examples: a local server
// with one machine and a few secrets.
func exampleServer() (*sikkerkeytest.Server, *sikkerkeytest.Machine) {
	srv := sikkerkeytest.NewServer()
	srv.PutSecret("sk_api_key", "API Key", "prj_web", "k-123")
	srv.PutFields("sk_db_prod", "Database Credentials", "prj_web", map[string]string{
		"host": "db.internal", "user": "app", "password": "s3cret",
	})
	return srv, srv.AddMachine("example-machine")
}

// exampleClient returns a client for the example server's machine.
func exampleClient(srv *sikkerkeytest.Server, m *sikkerkeytest.Machine, opts ...sdk.Option) *sdk.Client {
	client, err := m.Client(opts...)
	if err != nil {
		log.Fatal(err)
	}
	return client
}

func ExampleNew() {
	srv, m := exampleServer()
	defer srv.Close()
	// The bootstrap script writes ~/.sikkerkey/vaults/<vault>/identity.json;
	// here the test server writes one into a temporary home.
	home, _ := os.MkdirTemp("", "sikkerkey-home")
	defer os.RemoveAll(home)
	identityPath, err := m.WriteIdentity(home)
	if err != nil {
		log.Fatal(err)
	}

	// sdk.New("") would auto-detect the single vault under $SIKKERKEY_HOME;
	// a vault id or an explicit path works too.
	client, err := sdk.New(identityPath)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	fmt.Println(client.VaultID() == srv.VaultID(), client.MachineID() == m.ID())
	// Output: true true
}

func ExampleClient_GetSecret() {
	srv, m := exampleServer()
	defer srv.Close()
	client := exampleClient(srv, m)
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	apiKey, err := client.GetSecret(ctx, "sk_api_key")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(apiKey), "characters")
	// Output: 5 characters
}

func ExampleClient_GetFields() {
	srv, m := exampleServer()
	defer srv.Close()
	client := exampleClient(srv, m)
	defer client.Close()

	fields, err := client.GetFields(context.Background(), "sk_db_prod")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(fields["host"], fields["user"])

	// One field; a missing one is sdk.ErrFieldNotFound naming those that exist.
	_, err = client.GetField(context.Background(), "sk_db_prod", "port")
	fmt.Println(err)
	// Output:
	// db.internal app
	// sikkerkey: field not found: secret sk_db_prod has no field "port"; available fields: host, password, user
}

func ExampleClient_Export() {
	srv, m := exampleServer()
	defer srv.Close()
	client := exampleClient(srv, m)
	defer client.Close()

	env, err := client.Export(context.Background(), "") // "" = every project
	if err != nil {
		log.Fatal(err)
	}
	names := make([]string, 0, len(env))
	for name := range env {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Println(name)
	}
	// Output:
	// API_KEY
	// DATABASE_CREDENTIALS_HOST
	// DATABASE_CREDENTIALS_PASSWORD
	// DATABASE_CREDENTIALS_USER
}

func ExampleClient_Watch() {
	srv, m := exampleServer()
	defer srv.Close()
	// Against the real API the interval is at least 10 s; the test server
	// allows a faster one.
	client := exampleClient(srv, m, sdk.WithMinPollInterval(10*time.Millisecond), sdk.WithPollInterval(10*time.Millisecond))
	defer client.Close()
	if _, err := client.GetSecret(context.Background(), "sk_api_key"); err != nil {
		log.Fatal(err)
	}

	events := make(chan sdk.WatchEvent, 1)
	if err := client.Watch("sk_api_key", func(ev sdk.WatchEvent) { events <- ev }); err != nil {
		log.Fatal(err)
	}
	srv.Rotate("sk_api_key", "k-456")
	ev := <-events
	fmt.Println(ev.SecretID, ev.Status, len(ev.Value))
	// Output: sk_api_key changed 5
}
