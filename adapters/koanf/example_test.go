package sikkerkeykoanf_test

import (
	"fmt"
	"log"
	"sync/atomic"

	"github.com/knadh/koanf/v2"
	"github.com/sikkerkey-go/sikkerkey/adapters/internal/adapt/adapttest"
	sikkerkeykoanf "github.com/sikkerkey-go/sikkerkey/adapters/koanf"
)

// Config is what the service reads; Database comes from SikkerKey.
type Config struct {
	Database struct {
		Host     string `koanf:"host"`
		Port     int    `koanf:"port"`
		Password string `koanf:"password"`
	} `koanf:"database"`
}

func ExampleNew() {
	srv, client := adapttest.ExampleServer()
	defer srv.Close()
	defer client.Close()

	p, err := sikkerkeykoanf.New(client, []string{"sk_db_prod"},
		sikkerkeykoanf.Rename("sk_db_prod", "database"))
	if err != nil {
		log.Fatal(err)
	}
	k := koanf.New(".")
	if err := k.Load(p, nil); err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.String("database.host"), k.Int("database.port"))
	// Output: db.internal 5432
}

// The safe reload pattern: every change builds a new koanf instance and a
// new Config, and swaps a pointer that readers load.
func ExampleProvider_Watch() {
	srv, client := adapttest.ExampleServer()
	defer srv.Close()
	defer client.Close()

	p, err := sikkerkeykoanf.New(client, []string{"sk_db_prod"},
		sikkerkeykoanf.Rename("sk_db_prod", "database"))
	if err != nil {
		log.Fatal(err)
	}
	load := func() (*Config, error) {
		k := koanf.New(".") // a new instance per load: never shared
		if err := k.Load(p, nil); err != nil {
			return nil, err
		}
		var cfg Config
		if err := k.Unmarshal("", &cfg); err != nil {
			return nil, err
		}
		return &cfg, nil
	}

	var current atomic.Pointer[Config]
	cfg, err := load()
	if err != nil {
		log.Fatal(err)
	}
	current.Store(cfg)

	reloaded := make(chan struct{}, 1)
	err = p.Watch(func(_ any, err error) {
		if err != nil {
			log.Printf("secrets watch: %v", err)
			return
		}
		cfg, err := load()
		if err != nil {
			log.Printf("reload failed, keeping the current config: %v", err)
			return
		}
		current.Store(cfg)
		reloaded <- struct{}{}
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Unwatch()

	fmt.Println("port:", current.Load().Database.Port)
	srv.RotateFields("sk_db_prod", map[string]string{"host": "db.internal", "port": "6432", "password": "n3w"})
	<-reloaded
	fmt.Println("port:", current.Load().Database.Port)
	// Output:
	// port: 5432
	// port: 6432
}
