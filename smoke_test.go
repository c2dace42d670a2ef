package sikkerkey

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/source"
)

func TestSmoke(t *testing.T) {
	type DB struct {
		Host     string
		Port     int
		Password Secret
	}
	type Config struct {
		APIKey  Secret            `sikkerkey:"sk_api_key"`
		DBPass  string            `sikkerkey:"sk_db_prod,field=password"`
		DB      DB                `sikkerkey:"sk_db_prod"`
		Extra   map[string]string `sikkerkey:"sk_db_prod"`
		Timeout time.Duration     `sikkerkey:"sk_tuning,field=timeout,default=5s"`
		Debug   bool              `sikkerkey:"sk_flags,field=debug,optional"`
		Server  struct {
			Port int `sikkerkey:"sk_server,field=port"`
		}
	}
	var cfg Config
	err := Load(context.Background(), &cfg, WithSources(source.Map(map[string]string{
		"sk_api_key": "key123",
		"sk_db_prod": `{"host":"db","port":5432,"password":"pw"}`,
		"sk_server":  `{"port":"8080"}`,
	})))
	fmt.Printf("%v\n%+v\n", err, cfg)
	err = Load(context.Background(), &cfg, WithSources(source.Map(map[string]string{
		"sk_api_key": "key123",
		"sk_db_prod": `{"host":"db","port":"x5432","password":"pw"}`,
	})))
	fmt.Printf("%v\n", err)
}
