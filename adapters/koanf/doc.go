// Package sikkerkeykoanf is a koanf provider for SikkerKey secrets
// (github.com/knadh/koanf/v2).
//
// It lives in its own Go module, github.com/sikkerkey-go/sikkerkey/adapters/koanf,
// so that programs using the sikkerkey loader without koanf never build koanf.
//
// A Provider reads a fixed set of secrets in one batch fetch and hands koanf
// a nested map: a structured secret (a JSON object) becomes a map of its
// fields, any other secret a string. Secrets land under their id, or under
// a key given with Rename:
//
//	client, err := sdk.New("") // the machine identity under ~/.sikkerkey
//	if err != nil {
//		return err
//	}
//	defer client.Close()
//
//	p, err := sikkerkeykoanf.New(client, []string{"sk_db_prod", "sk_api_key"},
//		sikkerkeykoanf.Rename("sk_db_prod", "database"),
//		sikkerkeykoanf.Rename("sk_api_key", "api.key"))
//	if err != nil {
//		return err
//	}
//	k := koanf.New(".")
//	if err := k.Load(p, nil); err != nil { // nil parser: the provider returns a map
//		return err
//	}
//	host := k.String("database.host")
//
// Values are strings; koanf's Unmarshal decodes them weakly typed, so
// "5432" fills an int field and "5s" a time.Duration.
//
// # Reloading safely
//
// Watch reports rotations through koanf's callback convention, driven by the
// client's poller (one poll request per interval for every watched secret).
// koanf's Load merges into an instance and never deletes keys, and a koanf
// instance read by request handlers while the callback loads into it is a
// data race on the values you hand out. So on every change build a new koanf
// instance, load every provider into it, decode into a new struct and swap
// a pointer:
//
//	var current atomic.Pointer[Config]
//
//	load := func() (*Config, error) {
//		k := koanf.New(".")
//		// Load files, environment, ... here, then the secrets.
//		if err := k.Load(p, nil); err != nil {
//			return nil, err
//		}
//		var cfg Config
//		if err := k.Unmarshal("", &cfg); err != nil {
//			return nil, err
//		}
//		return &cfg, nil
//	}
//	cfg, err := load()
//	if err != nil {
//		return err
//	}
//	current.Store(cfg)
//
//	err = p.Watch(func(_ any, err error) {
//		if err != nil {
//			log.Printf("secrets watch: %v", err) // never contains values
//			return
//		}
//		cfg, err := load()
//		if err != nil {
//			log.Printf("reload failed, keeping the current config: %v", err)
//			return
//		}
//		current.Store(cfg) // readers call current.Load()
//	})
//	if err != nil {
//		return err
//	}
//	defer p.Unwatch()
//
// Never call Load on a koanf instance that other goroutines read from the
// callback, and never change a struct that handlers hold: hand out a new one.
//
// # Security notes
//
// Errors of this package name secret ids, never values. koanf itself does
// not know which keys are secret: k.Sprint, k.All and k.Raw print or return
// every value, and a failed Unmarshal may quote the value it could not
// decode, so log such errors with care.
package sikkerkeykoanf
