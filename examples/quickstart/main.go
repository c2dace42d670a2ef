// Command quickstart is the two-minute tour of sikkerkey: it loads a tagged
// config struct from SikkerKey, prints it with the secrets redacted, and
// follows a rotation. Everything runs in this process, offline: a local
// SikkerKey test server stands in for the real service.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"time"

	"github.com/sikkerkey-go/sikkerkey"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// Config is what the service needs. Each tag names a SikkerKey secret id.
type Config struct {
	APIKey  sikkerkey.Secret `sikkerkey:"sk_api_key"`                         // a plain secret
	DB      Database         `sikkerkey:"sk_db_prod"`                         // every field of a structured secret
	Workers int              `sikkerkey:"sk_tuning,field=workers"`            // one field of a structured secret
	Timeout time.Duration    `sikkerkey:"sk_tuning,field=timeout,default=5s"` // used when the field is missing
	Debug   bool             `sikkerkey:"sk_flags,field=debug,optional"`      // left false when missing
}

// Database receives the fields of sk_db_prod, matched by name.
type Database struct {
	Host     string
	Port     int
	User     string
	Password sikkerkey.Secret // prints as [REDACTED]; Password.Reveal() gives the value
}

// The secret values this example stores. None of them is ever printed.
const (
	apiKey      = "ak_live_7Qm2v9XcR4"
	dbPassword  = "correct-horse-battery"
	newPassword = "staple-9Kx4-rotated"
	badPort     = "5432/tcp"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	// 1. A local SikkerKey server with a machine and three secrets.
	srv := sikkerkeytest.NewServer()
	defer srv.Close()
	machine := srv.AddMachine("quickstart")
	srv.PutSecret("sk_api_key", "API key", "", apiKey)
	srv.PutFields("sk_db_prod", "Database", "", map[string]string{
		"host": "db.internal", "port": "5432", "user": "app", "password": dbPassword})
	srv.PutFields("sk_tuning", "Tuning", "", map[string]string{"workers": "8"})

	// Write the machine identity where every SikkerKey client looks for it:
	// $SIKKERKEY_HOME/vaults/<vault>/identity.json (~/.sikkerkey by default).
	home, err := os.MkdirTemp("", "sikkerkey-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	os.Setenv("SIKKERKEY_HOME", home)
	if _, err := machine.WriteIdentity(home); err != nil {
		return err
	}
	fmt.Fprintf(out, "1. Started a local SikkerKey server (vault %s) and wrote this machine's\n", srv.VaultID())
	fmt.Fprintf(out, "   identity under SIKKERKEY_HOME=%s, as on a real machine.\n\n", home)

	// 2. Load the config and keep it current. The client is made from the
	// identity on disk; on a machine with one vault, Watch[Config](ctx) is enough.
	w, err := sikkerkey.Watch[Config](ctx, sikkerkey.WithVault(srv.VaultID()))
	if err != nil {
		return err // says which fields failed and why, never a value
	}
	defer w.Close()
	fmt.Fprintf(out, "2. Loaded the config with sikkerkey.Watch[Config]:\n   %+v\n", *w.Current())
	fmt.Fprintf(out, "   Secrets print as [REDACTED]; APIKey.Reveal() gives the real %d-character key.\n", len(w.Current().APIKey.Reveal()))
	fmt.Fprintf(out, "   Timeout came from default=5s; Debug is optional and sk_flags does not exist.\n\n")

	// OnChange runs after each new config is swapped in; OnError when a reload fails.
	changed := make(chan struct{}, 1)
	w.OnChange(func(old, new *Config) {
		fmt.Fprintln(out, "   OnChange:")
		for _, c := range changes("", reflect.ValueOf(*old), reflect.ValueOf(*new)) {
			fmt.Fprintln(out, "     "+c)
		}
		changed <- struct{}{}
	})
	reportError := func(err error) {
		fmt.Fprintln(out, "   Reload rejected, the config is kept:")
		var loadErr *sikkerkey.LoadError // lists every failing field
		if errors.As(err, &loadErr) {
			for _, f := range loadErr.Fields {
				fmt.Fprintln(out, "     "+f.Error())
			}
		} else {
			fmt.Fprintln(out, "     "+err.Error())
		}
	}
	w.OnError(reportError)

	// 3. Rotate the database secret. Watch polls SikkerKey by itself (every 15 s
	// by default, never faster than the server's 10 s minimum); Refresh, as a
	// SIGHUP handler would call it, picks the rotation up right now.
	srv.RotateFields("sk_db_prod", map[string]string{
		"host": "db.internal", "port": "6432", "user": "app", "password": newPassword})
	fmt.Fprintln(out, "3. Rotated sk_db_prod on the server (new password, port 6432) and called")
	fmt.Fprintln(out, "   w.Refresh(ctx), as a SIGHUP handler would, instead of waiting for the poll.")
	if err := w.Refresh(ctx); err != nil {
		return err
	}
	<-changed

	// 4. A bad rotation: the port is not a number. Refresh returns the error
	// (background reloads hand it to OnError) and the current config stays.
	srv.RotateFields("sk_db_prod", map[string]string{
		"host": "db.internal", "port": badPort, "user": "app", "password": newPassword})
	fmt.Fprintln(out, "\n4. Rotated sk_db_prod again, with a port that is not a number.")
	if err := w.Refresh(ctx); err != nil {
		reportError(err)
	}
	fmt.Fprintf(out, "   w.Current().DB.Port is still %d.\n\n", w.Current().DB.Port)

	// 5. Close stops polling and waits for the callbacks to finish.
	w.Close()
	fmt.Fprintln(out, "5. Closed the watcher. Next: the README (sources, hot reload, testing).")
	return nil
}

// changes lists the fields that differ between two configs: old → new for
// plain values, "(rotated)" for secrets, whose values are never shown.
func changes(name string, old, new reflect.Value) []string {
	switch {
	case old.Kind() == reflect.Struct:
		var out []string
		for i := range old.NumField() {
			field := old.Type().Field(i).Name
			if name != "" {
				field = name + "." + field
			}
			out = append(out, changes(field, old.Field(i), new.Field(i))...)
		}
		return out
	case reflect.DeepEqual(old.Interface(), new.Interface()):
		return nil
	case old.Type() == reflect.TypeFor[sikkerkey.Secret]():
		return []string{name + ": (rotated)"}
	default:
		return []string{fmt.Sprintf("%s: %v → %v", name, old, new)}
	}
}
