package source_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sikkerkey-go/sikkerkey"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
	"github.com/sikkerkey-go/sikkerkey/source"
)

type Config struct {
	APIKey sikkerkey.Secret `sikkerkey:"sk_api_key"`
	DBHost string           `sikkerkey:"sk_db_prod,field=host"`
	DBPass sikkerkey.Secret `sikkerkey:"sk_db_prod,field=password"`
}

func (c Config) String() string {
	return fmt.Sprintf("api key %s, db %s with password %s", c.APIKey.Reveal(), c.DBHost, c.DBPass.Reveal())
}

func load(src ...source.Source) {
	var cfg Config
	if err := sikkerkey.Load(context.Background(), &cfg, sikkerkey.WithSources(src...)); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg)
}

func ExampleMap() {
	load(source.Map(map[string]string{
		"sk_api_key": "ak_test",
		"sk_db_prod": `{"host": "localhost", "password": "test"}`,
	}))
	// Output: api key ak_test, db localhost with password test
}

func ExampleEnv() {
	// SK_API_KEY=ak_env SK_DB_PROD_HOST=localhost SK_DB_PROD_PASSWORD=pw ./app
	environ := map[string]string{"SK_API_KEY": "ak_env", "SK_DB_PROD_HOST": "localhost", "SK_DB_PROD_PASSWORD": "pw"}
	lookup := func(name string) (string, bool) { v, ok := environ[name]; return v, ok } // os.LookupEnv by default
	load(source.Env(source.EnvLookup(lookup)))
	// Output: api key ak_env, db localhost with password pw
}

func ExampleFile() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "secrets.dev.json")
	_ = os.WriteFile(path, []byte(`{
		"sk_api_key": "ak_dev",
		"sk_db_prod": {"host": "localhost", "password": "dev"}
	}`), 0o600)
	load(source.File(path))
	// Output: api key ak_dev, db localhost with password dev
}

func ExampleDir() {
	// A Kubernetes secret volume: one file per secret id.
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "sk_api_key"), []byte("ak_k8s\n"), 0o600)
	_ = os.WriteFile(filepath.Join(dir, "sk_db_prod"), []byte(`{"host":"db","password":"k8s"}`), 0o600)
	load(source.Dir(dir))
	// Output: api key ak_k8s, db db with password k8s
}

func ExampleSikkerKey() {
	// A local SikkerKey server stands in for the real one.
	srv := sikkerkeytest.NewServer()
	defer srv.Close()
	m := srv.AddMachine("app")
	srv.PutSecret("sk_api_key", "API key", "", "ak_live")
	srv.PutFields("sk_db_prod", "Database", "", map[string]string{"host": "db.internal", "password": "pw"})

	// In production: client, err := sdk.New("vault_abc123")
	client, err := sdk.NewFromKey(sdk.Identity{MachineID: m.ID(), APIURL: srv.URL()}, m.PrivateKey())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	load(source.SikkerKey(client))
	// Output: api key ak_live, db db.internal with password pw
}

func ExampleFunc() {
	// Any function can be a source; ids it does not return fall through.
	upper := source.Func(func(_ context.Context, reqs []source.Request) (map[string]source.Value, error) {
		out := map[string]source.Value{}
		for _, r := range reqs {
			if r.ID == "sk_api_key" {
				out[r.ID] = source.Value{Raw: strings.ToUpper("ak_func")}
			}
		}
		return out, nil
	})
	load(upper, source.Map(map[string]string{"sk_db_prod": `{"host":"h","password":"p"}`}))
	// Output: api key AK_FUNC, db h with password p
}

// vaultKV is a custom source: a stand-in for another secret store, answering
// a whole batch in one call and giving structured secrets their fields.
type vaultKV struct {
	data map[string]map[string]string
}

func (v vaultKV) Lookup(_ context.Context, reqs []source.Request) (map[string]source.Value, error) {
	out := make(map[string]source.Value, len(reqs))
	for _, r := range reqs {
		if fields, ok := v.data[r.ID]; ok {
			out[r.ID] = source.Value{Fields: fields}
		}
	}
	return out, nil
}

func (vaultKV) String() string { return "vault-kv" }

func ExampleSource() {
	kv := vaultKV{data: map[string]map[string]string{
		"sk_db_prod": {"host": "kv-db", "password": "kv-pw"},
	}}
	load(kv, source.Map(map[string]string{"sk_api_key": "ak_map"}))
	// Output: api key ak_map, db kv-db with password kv-pw
}
