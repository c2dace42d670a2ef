package sikkerkeyviper_test

import (
	"context"
	"fmt"
	"log"

	"github.com/sikkerkey-go/sikkerkey/adapters/internal/adapt/adapttest"
	sikkerkeyviper "github.com/sikkerkey-go/sikkerkey/adapters/viper"
	"github.com/spf13/viper"
)

// Config is what the service reads; Database comes from SikkerKey.
type Config struct {
	Name     string `mapstructure:"name"`
	Database struct {
		Host     string `mapstructure:"host"`
		Port     int    `mapstructure:"port"`
		Password string `mapstructure:"password"`
	} `mapstructure:"database"`
}

func ExampleSecrets_MergeInto() {
	srv, client := adapttest.ExampleServer()
	defer srv.Close()
	defer client.Close()

	secrets, err := sikkerkeyviper.New(client, []string{"sk_db_prod"},
		sikkerkeyviper.Rename("sk_db_prod", "database"))
	if err != nil {
		log.Fatal(err)
	}
	v := viper.New()
	v.SetDefault("database.port", 1)    // below the secrets
	v.Set("database.host", "localhost") // above the secrets
	if err := secrets.MergeInto(context.Background(), v); err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.GetString("database.host"), v.GetInt("database.port"))
	// Output: localhost 5432
}

func ExampleNewReloader() {
	srv, client := adapttest.ExampleServer()
	defer srv.Close()
	defer client.Close()

	secrets, err := sikkerkeyviper.New(client, []string{"sk_db_prod"},
		sikkerkeyviper.Rename("sk_db_prod", "database"))
	if err != nil {
		log.Fatal(err)
	}
	changed := make(chan struct{}, 1)
	r, err := sikkerkeyviper.NewReloader(context.Background(), secrets, sikkerkeyviper.ReloadConfig[Config]{
		Setup: func(v *viper.Viper) error { // runs on a new viper for every build
			v.SetDefault("name", "billing")
			return nil
		},
		OnChange: func(old, new *Config) { changed <- struct{}{} },
		OnError:  func(err error) { log.Printf("reload failed, keeping the current config: %v", err) },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	fmt.Println(r.Current().Name, r.Current().Database.Port)
	srv.RotateFields("sk_db_prod", map[string]string{"host": "db.internal", "port": "6432", "password": "n3w"})
	<-changed
	fmt.Println(r.Current().Name, r.Current().Database.Port)
	// Output:
	// billing 5432
	// billing 6432
}
