package sikkerkey

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/source"
)

type fileCfg struct {
	Key  Secret `sikkerkey:"sk_key"`
	Port int    `sikkerkey:"sk_db,field=port"`
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// atomicWrite saves like editors and config tools do: a temporary file
// renamed over the old one.
func atomicWrite(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestWatchFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.json")
	writeFile(t, path, `{"sk_key":"k1","sk_db":{"port":1}}`)
	w, changes, errs := watch[fileCfg](t, 0, WithSources(source.File(path, source.Debounce(20*time.Millisecond))))
	atomicWrite(t, path, `{"sk_key":"k2","sk_db":{"port":1}}`)
	ch := recv(t, changes)
	if ch.old.Key.Reveal() != "k1" || ch.new.Key.Reveal() != "k2" || w.Current() != ch.new {
		t.Errorf("%v -> %v", ch.old.Key.Reveal(), ch.new.Key.Reveal())
	}

	// A deleted file is an error and the config stays; it comes back.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	err := recv(t, errs)
	if !errors.Is(err, os.ErrNotExist) || w.Current() != ch.new {
		t.Errorf("delete: %v", err)
	}
	writeFile(t, path, `{"sk_key":"k3","sk_db":{"port":2}}`)
	if ch := recv(t, changes); ch.new.Key.Reveal() != "k3" || ch.new.Port != 2 {
		t.Errorf("recreated: %+v", ch.new)
	}
}

// TestWatchFileBurst writes the file 20 times in a row: one reload, with
// the last content.
func TestWatchFileBurst(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.json")
	writeFile(t, path, `{"sk_key":"k","sk_db":{"port":0}}`)
	_, changes, _ := watch[fileCfg](t, 0, WithSources(source.File(path, source.Debounce(200*time.Millisecond))))
	// Once a change has come through, the file watch is surely in place.
	writeFile(t, path, `{"sk_key":"k","sk_db":{"port":-1}}`)
	if ch := recv(t, changes); ch.new.Port != -1 {
		t.Fatalf("priming: %+v", ch.new)
	}
	for i := 1; i <= 20; i++ {
		writeFile(t, path, fmt.Sprintf(`{"sk_key":"k","sk_db":{"port":%d}}`, i))
	}
	if ch := recv(t, changes); ch.old.Port != -1 || ch.new.Port != 20 {
		t.Errorf("first reload %d -> %d, want -1 -> 20", ch.old.Port, ch.new.Port)
	}
	writeFile(t, path, `{"sk_key":"k","sk_db":{"port":21}}`)
	if ch := recv(t, changes); ch.old.Port != 20 || ch.new.Port != 21 {
		t.Errorf("second reload %d -> %d, want 20 -> 21", ch.old.Port, ch.new.Port)
	}
}

func TestWatchDirKubernetesSwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The volume as the kubelet writes it: files are symlinks through ..data.
	swap := func(gen int, key, db string) {
		ts := fmt.Sprintf("..2024_01_01_00_00_%02d.000", gen)
		if err := os.Mkdir(filepath.Join(dir, ts), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, ts, "sk_key"), key)
		writeFile(t, filepath.Join(dir, ts, "sk_db"), db)
		if err := os.Symlink(ts, filepath.Join(dir, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		if gen == 1 {
			for _, f := range []string{"sk_key", "sk_db"} {
				if err := os.Symlink(filepath.Join("..data", f), filepath.Join(dir, f)); err != nil {
					t.Fatal(err)
				}
			}
			return
		}
		if err := os.RemoveAll(filepath.Join(dir, fmt.Sprintf("..2024_01_01_00_00_%02d.000", gen-1))); err != nil {
			t.Fatal(err)
		}
	}
	swap(1, "k1\n", `{"port":1}`)
	w, changes, _ := watch[fileCfg](t, 0, WithSources(source.Dir(dir, source.Debounce(20*time.Millisecond))))
	if w.Current().Key.Reveal() != "k1" {
		t.Fatal(w.Current().Key.Reveal())
	}
	swap(2, "k2\n", `{"port":2}`)
	ch := recv(t, changes)
	if ch.new.Key.Reveal() != "k2" || ch.new.Port != 2 {
		t.Errorf("%s %d", ch.new.Key.Reveal(), ch.new.Port)
	}
}
