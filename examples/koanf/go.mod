module github.com/sikkerkey-go/sikkerkey/examples/koanf

go 1.24

require (
	github.com/knadh/koanf/providers/confmap v1.0.1
	github.com/knadh/koanf/v2 v2.4.1
	github.com/sikkerkey-go/sikkerkey v0.0.0
	github.com/sikkerkey-go/sikkerkey/adapters/koanf v0.0.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/fsnotify/fsnotify v1.10.1 // indirect
	github.com/go-viper/mapstructure/v2 v2.5.0 // indirect
	github.com/knadh/koanf/maps v0.1.2 // indirect
	github.com/mitchellh/copystructure v1.2.0 // indirect
	github.com/mitchellh/reflectwalk v1.0.2 // indirect
	golang.org/x/sys v0.13.0 // indirect
)

replace (
	github.com/sikkerkey-go/sikkerkey => ../..
	github.com/sikkerkey-go/sikkerkey/adapters/koanf => ../../adapters/koanf
)
