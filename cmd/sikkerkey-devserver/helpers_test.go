package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sikkerkey-go/sikkerkey/internal/logbuf"
	"github.com/sikkerkey-go/sikkerkey/sdk"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// eventually calls cond every 20 ms until it returns true, failing the
// test with what it describes after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var listeningRE = regexp.MustCompile(`(?m)^sikkerkey-devserver listening on (http://localhost:\d+)$`)

// devserver is a run call in progress.
type devserver struct {
	t            *testing.T
	home         string
	secrets      string
	url          string
	identityPath string
	stdout       *logbuf.Buffer
	stderr       *logbuf.Buffer
	cancel       context.CancelFunc
	done         chan error
	stopOnce     sync.Once
	err          error
}

// startRun runs the dev server on a free port with the given home and
// secrets file, waits until it is listening, and stops it at the end of
// the test.
func startRun(t *testing.T, home, secrets string, extra ...string) *devserver {
	t.Helper()
	args := append([]string{"-addr", "127.0.0.1:0", "-home", home, "-secrets", secrets}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	d := &devserver{
		t: t, home: home, secrets: secrets,
		stdout: &logbuf.Buffer{}, stderr: &logbuf.Buffer{},
		cancel: cancel, done: make(chan error, 1),
	}
	go func() { d.done <- run(ctx, args, d.stdout, d.stderr) }()
	t.Cleanup(func() { d.stop() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(d.stdout.String()); m != nil {
			d.url = m[1]
			break
		}
		select {
		case err := <-d.done:
			cancel()
			t.Fatalf("run returned before listening: %v\nstderr:\n%s", err, d.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev server not listening after 10s\nstdout:\n%s\nstderr:\n%s", d.stdout.String(), d.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	vault := "vault_dev"
	for i, a := range extra {
		if a == "-vault" && i+1 < len(extra) {
			vault = extra[i+1]
		}
	}
	d.identityPath = filepath.Join(home, "vaults", vault, "identity.json")
	return d
}

// stop cancels run and returns its result; it fails the test if run does
// not return within 5 s.
func (d *devserver) stop() error {
	d.stopOnce.Do(func() {
		d.cancel()
		select {
		case d.err = <-d.done:
		case <-time.After(5 * time.Second):
			d.t.Errorf("run did not return within 5s of cancellation")
		}
	})
	return d.err
}

// client returns an sdk client reading the identity the dev server wrote,
// closed at the end of the test.
func (d *devserver) client(opts ...sdk.Option) *sdk.Client {
	d.t.Helper()
	c, err := sdk.New(d.identityPath, append([]sdk.Option{sdk.WithRetryBackoff()}, opts...)...)
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitValue polls GetSecret until it returns want.
func waitValue(t *testing.T, c *sdk.Client, id, want string) {
	t.Helper()
	var got string
	var err error
	eventually(t, 5*time.Second, id+" = "+want, func() bool {
		got, err = c.GetSecret(context.Background(), id)
		return err == nil && got == want
	})
}

// waitLog waits until stderr contains s, n times in all.
func (d *devserver) waitLog(s string, n int) {
	d.t.Helper()
	eventually(d.t, 5*time.Second, "log "+s, func() bool { return strings.Count(d.stderr.String(), s) >= n })
}

// writeSecrets writes the secrets file in place (truncate and write).
func writeSecrets(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// saveAtomically writes the secrets file the way many editors save: a
// temporary file in the same directory renamed over the old one.
func saveAtomically(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp~"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// newSecretsFile writes content to secrets.json in a new temporary
// directory and returns its path and a home directory next to it.
func newSecretsFile(t *testing.T, content string) (secrets, home string) {
	t.Helper()
	dir := t.TempDir()
	secrets = filepath.Join(dir, "secrets.json")
	writeSecrets(t, secrets, content)
	return secrets, filepath.Join(dir, "home")
}
