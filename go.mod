module github.com/sikkerkey-go/sikkerkey

go 1.24

require (
	github.com/fsnotify/fsnotify v1.10.1
	github.com/go-viper/mapstructure/v2 v2.5.0
	go.uber.org/goleak v1.3.0
)

require golang.org/x/sys v0.13.0 // indirect
