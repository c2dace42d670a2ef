// Command kubernetes loads a config from a Kubernetes secret volume with
// source.Dir, and follows the atomic symlink swap that kubelet makes when the
// Secret object changes. The volume is simulated in a temporary directory,
// laid out exactly as kubelet lays it out, so this runs anywhere.
//
//	go run ./examples/kubernetes
//
// In a cluster, mount the Secret and point source.Dir at the mount path:
//
//	volumes:
//	  - name: app-secrets
//	    secret: {secretName: app-secrets}
//	containers:
//	  - volumeMounts: [{name: app-secrets, mountPath: /etc/app-secrets, readOnly: true}]
//
// Each key of the Secret (sk_api_key, sk_db_prod, ...) becomes one file.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sikkerkey-go/sikkerkey"
	"github.com/sikkerkey-go/sikkerkey/source"
)

// Config is read from the files of the volume: file sk_db_prod holds a JSON
// object, so it is a structured secret whose fields fill DB.
type Config struct {
	APIKey   sikkerkey.Secret `sikkerkey:"sk_api_key"`
	LogLevel string           `sikkerkey:"sk_log_level,default=info"`
	DB       struct {
		Host     string
		Port     int
		Password sikkerkey.Secret
	} `sikkerkey:"sk_db_prod"`
}

// The secret values this example stores. None of them is ever printed.
const (
	apiKey      = "ak_k8s_Zt81wq0P"
	dbPassword  = "first-pw-J3s9"
	newPassword = "second-pw-Qa72"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kubernetes:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	volume, err := os.MkdirTemp("", "k8s-secret-volume-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(volume)

	// 1. The volume as kubelet first writes it.
	err = kubeletWrite(volume, map[string]string{
		"sk_api_key":   apiKey,
		"sk_log_level": "info",
		"sk_db_prod":   `{"host": "postgres.prod.svc", "port": 5432, "password": "` + dbPassword + `"}`,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "1. A secret volume, laid out the way kubelet writes it (%s):\n", volume)
	if err := list(out, volume); err != nil {
		return err
	}

	// 2. Watch the directory. Dir watches it with fsnotify and re-reads once
	// per burst of events (debounced, 100 ms by default).
	w, err := sikkerkey.Watch[Config](ctx, sikkerkey.WithSources(source.Dir(volume)))
	if err != nil {
		return err
	}
	defer w.Close()
	cfg := w.Current()
	fmt.Fprintf(out, "\n2. Loaded with sikkerkey.Watch[Config](ctx, sikkerkey.WithSources(source.Dir(...))):\n   %+v\n", *cfg)

	var calls atomic.Int32
	changed := make(chan struct{}, 1)
	w.OnChange(func(old, new *Config) {
		calls.Add(1)
		fmt.Fprintln(out, "   OnChange:")
		if old.LogLevel != new.LogLevel {
			fmt.Fprintf(out, "     LogLevel: %s → %s\n", old.LogLevel, new.LogLevel)
		}
		if old.DB.Password != new.DB.Password {
			fmt.Fprintln(out, "     DB.Password: (rotated)")
		}
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	w.OnError(func(err error) { fmt.Fprintln(out, "   OnError:", err) })

	// 3. The Secret object changes: kubelet writes a new timestamped directory
	// and swaps ..data over to it with one atomic rename.
	fmt.Fprintln(out, "\n3. kubectl edits the Secret; kubelet writes a new ..<timestamp> directory")
	fmt.Fprintln(out, "   and renames a ..data_tmp symlink over ..data, all in one atomic step.")
	err = kubeletWrite(volume, map[string]string{
		"sk_api_key":   apiKey,
		"sk_log_level": "debug",
		"sk_db_prod":   `{"host": "postgres.prod.svc", "port": 5432, "password": "` + newPassword + `"}`,
	})
	if err != nil {
		return err
	}
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("no OnChange 10 s after the swap")
	}
	// Give a second reload time to happen, to show there is none.
	time.Sleep(500 * time.Millisecond)
	if n := calls.Load(); n == 1 {
		fmt.Fprintln(out, "   OnChange ran once for the whole swap: its burst of file events is one reload.")
	} else {
		fmt.Fprintf(out, "   OnChange ran %d times for one swap.\n", n)
	}
	fmt.Fprintln(out, "   The volume now (the old timestamped directory is gone):")
	if err := list(out, volume); err != nil {
		return err
	}

	w.Close()
	fmt.Fprintln(out, "\n4. Closed the watcher.")
	return nil
}

// kubeletWrite writes files into a secret volume the way kubelet's
// AtomicWriter does: the files go into a new directory named after the time,
// a ..data_tmp symlink to it is renamed over ..data (readers see either
// all the old files or all the new ones), each key is a symlink into ..data,
// and the previous timestamped directory is removed.
func kubeletWrite(volume string, files map[string]string) error {
	oldData, _ := os.Readlink(filepath.Join(volume, "..data")) // "" the first time
	tsDir, err := os.MkdirTemp(volume, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return err
	}
	for name, value := range files {
		if err := os.WriteFile(filepath.Join(tsDir, name), []byte(value), 0o600); err != nil {
			return err
		}
	}
	tmpLink := filepath.Join(volume, "..data_tmp")
	if err := os.Symlink(filepath.Base(tsDir), tmpLink); err != nil {
		return err
	}
	if err := os.Rename(tmpLink, filepath.Join(volume, "..data")); err != nil {
		return err
	}
	for name := range files {
		link := filepath.Join(volume, name)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
				return err
			}
		}
	}
	if oldData != "" {
		return os.RemoveAll(filepath.Join(volume, oldData))
	}
	return nil
}

// list prints the entries of the volume: symlinks with their targets,
// directories with the files they hold.
func list(out io.Writer, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		switch target, err := os.Readlink(filepath.Join(dir, e.Name())); {
		case err == nil:
			fmt.Fprintf(out, "     %-32s -> %s\n", e.Name(), target)
		case e.IsDir():
			files, err := os.ReadDir(filepath.Join(dir, e.Name()))
			if err != nil {
				return err
			}
			var names []string
			for _, f := range files {
				names = append(names, f.Name())
			}
			fmt.Fprintf(out, "     %-32s    (%s)\n", e.Name()+"/", strings.Join(names, ", "))
		default:
			fmt.Fprintf(out, "     %s\n", e.Name())
		}
	}
	return nil
}
