package sikkerkey_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sikkerkey-go/sikkerkey"
	"github.com/sikkerkey-go/sikkerkey/source"
)

// Watch keeps a config current. In production it follows SikkerKey
// rotations: sikkerkey.Watch[AppConfig](ctx). Here a JSON file plays
// SikkerKey, and is rewritten the way editors save.
func ExampleWatch() {
	type AppConfig struct {
		DBPassword sikkerkey.Secret `sikkerkey:"sk_db_prod,field=password"`
		PoolSize   int              `sikkerkey:"sk_db_prod,field=pool_size,default=10"`
	}
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "secrets.json")
	_ = os.WriteFile(path, []byte(`{"sk_db_prod": {"password": "old-pw"}}`), 0o600)

	ctx := context.Background()
	w, err := sikkerkey.Watch[AppConfig](ctx, sikkerkey.WithSources(source.File(path, source.Debounce(10*time.Millisecond))))
	if err != nil {
		fmt.Println(err) // the first load failed: nothing is running
		return
	}
	defer w.Close()
	fmt.Println(w.Current().DBPassword.Reveal(), w.Current().PoolSize)

	changed := make(chan struct{})
	w.OnChange(func(old, new *AppConfig) {
		// Rebuild what depends on the secret, e.g. pool.Reconfigure(new).
		fmt.Println("rotated:", old.DBPassword.Reveal(), "->", new.DBPassword.Reveal(), new.PoolSize)
		close(changed)
	})
	w.OnError(func(err error) { fmt.Println("reload failed:", err) })

	tmp := path + ".tmp"
	_ = os.WriteFile(tmp, []byte(`{"sk_db_prod": {"password": "new-pw", "pool_size": 20}}`), 0o600)
	_ = os.Rename(tmp, path)
	<-changed
	// Output:
	// old-pw 10
	// rotated: old-pw -> new-pw 20
}
