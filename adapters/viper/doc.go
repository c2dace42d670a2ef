// Package sikkerkeyviper puts SikkerKey secrets into viper
// (github.com/spf13/viper v1.21).
//
// It lives in its own Go module, github.com/sikkerkey-go/sikkerkey/adapters/viper,
// so that programs using the sikkerkey loader without viper never build
// viper.
//
// Secrets names the secrets to read and the viper key of each. A snapshot
// of them, fetched in one batch, is a nested map: a structured secret (a
// JSON object) becomes a map of its fields, any other secret a string.
//
// # Merging into a viper instance
//
// MergeInto (or Snapshot and Merge) merges a snapshot into viper's config
// layer with MergeConfigMap, on a deep copy, so your maps are never changed:
//
//	secrets, err := sikkerkeyviper.New(client, []string{"sk_db_prod"},
//		sikkerkeyviper.Rename("sk_db_prod", "database"))
//	if err != nil {
//		return err
//	}
//	v := viper.New()
//	v.SetDefault("database.port", 5432)
//	if err := secrets.MergeInto(ctx, v); err != nil {
//		return err
//	}
//	host := v.GetString("database.host")
//
// The config layer sits below Set, flags and environment variables and
// above SetDefault. ReadInConfig, and so viper's WatchConfig on every file
// change, replaces that layer and erases merged secrets: merge after
// ReadInConfig, and again after every re-read (see Merge).
//
// # Reloading safely
//
// viper is not safe for concurrent use, so a viper instance that handlers
// read must not be changed by a background goroutine (which is what
// WatchConfig with OnConfigChange, or a secrets callback calling
// MergeConfigMap, would do). Reloader follows the safe pattern instead: on
// every change it builds a new viper (your Setup sets defaults, files,
// environment), merges a new snapshot, decodes a new T and swaps an atomic
// pointer. A failed build keeps the last good value.
//
//	r, err := sikkerkeyviper.NewReloader(ctx, secrets, sikkerkeyviper.ReloadConfig[Config]{
//		Setup: func(v *viper.Viper) error {
//			v.SetDefault("database.port", 5432)
//			v.SetConfigFile("config.yaml")
//			return v.ReadInConfig()
//		},
//		OnChange: func(old, new *Config) { log.Print("configuration reloaded") },
//		OnError:  func(err error) { log.Printf("reload failed, keeping the current config: %v", err) },
//	})
//	if err != nil {
//		return err
//	}
//	defer r.Close()
//	cfg := r.Current() // a *Config; call Current again for the latest
//
// Rotations in SikkerKey trigger a build by themselves; call r.Reload when
// the config file changes.
//
// # Security notes
//
// Errors of this package name secret ids and keys, never values. viper does
// not know which keys are secret: AllSettings, Debug and WriteConfig print
// or write every value, and a failed Unmarshal may quote the text it could
// not decode.
package sikkerkeyviper
