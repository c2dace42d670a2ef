package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey"
	"github.com/sikkerkey-go/sikkerkey/internal/logbuf"
	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// process is the dev server binary running as a child process.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	stdout *logbuf.Buffer
	stderr *logbuf.Buffer
	exited chan struct{}
	err    error // from Wait, set before exited is closed
}

// startProcess starts the binary and waits for its "listening on" line.
// The process is killed at the end of the test if it is still running.
func startProcess(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{t: t, stdout: &logbuf.Buffer{}, stderr: &logbuf.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	deadline := time.After(20 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(p.stdout.String()); m != nil {
			p.url = m[1]
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("dev server exited before listening: %v\nstdout:\n%s\nstderr:\n%s", p.err, p.stdout.String(), p.stderr.String())
		case <-deadline:
			t.Fatalf("dev server not listening after 20s\nstdout:\n%s\nstderr:\n%s", p.stdout.String(), p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop sends sig and requires a clean exit 0 within 5 s.
func (p *process) stop(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.t.Fatalf("no exit within 5s of %v\nstderr:\n%s", sig, p.stderr.String())
	}
	if p.err != nil {
		p.t.Fatalf("exit after %v: %v\nstderr:\n%s", sig, p.err, p.stderr.String())
	}
	if !strings.Contains(p.stdout.String(), "sikkerkey-devserver stopped") {
		p.t.Fatalf("no stopped line:\n%s", p.stdout.String())
	}
}

// buildBinary builds the dev server into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found:", err)
	}
	bin := filepath.Join(t.TempDir(), "sikkerkey-devserver")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type processConfig struct {
	APIKey sikkerkey.Secret `sikkerkey:"sk_api_key"`
	DB     struct {
		Host     string
		Port     int
		Password sikkerkey.Secret
	} `sikkerkey:"sk_db_prod"`
}

// TestProcess is the end-to-end check: the dev server as a
// process, a configuration loaded through it by sdk.New and
// sikkerkey.Load, an edit of the secrets file seen by a watcher and by the
// next load, and a clean exit on SIGTERM (then a restart with the same
// machine, stopped by SIGINT).
func TestProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("sends SIGTERM")
	}
	bin := buildBinary(t)
	secrets, home := newSecretsFile(t, `{
	  "sk_api_key": "process-key-1",
	  "sk_db_prod": {"host": "db.local", "port": 5432, "password": "process-pass-1"}
	}`)
	p := startProcess(t, bin, "-addr", "127.0.0.1:0", "-home", home, "-secrets", secrets)
	identityPath := filepath.Join(home, "vaults", "vault_dev", "identity.json")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The sdk client, from the identity file alone.
	client, err := sdk.New(identityPath, sdk.WithRetryBackoff(),
		sdk.WithMinPollInterval(50*time.Millisecond), sdk.WithPollInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if client.APIURL() != p.url {
		t.Fatalf("client API URL %s, server %s", client.APIURL(), p.url)
	}
	if v, err := client.GetSecret(ctx, "sk_api_key"); err != nil || v != "process-key-1" {
		t.Fatalf("GetSecret = %q, %v", v, err)
	}

	// The loader, by identity path and by auto-detection under
	// SIKKERKEY_HOME, exactly as a service would run.
	var cfg processConfig
	if err := sikkerkey.Load(ctx, &cfg, sikkerkey.WithVault(identityPath)); err != nil {
		t.Fatal(err)
	}
	if cfg.APIKey.Reveal() != "process-key-1" || cfg.DB.Host != "db.local" || cfg.DB.Port != 5432 || cfg.DB.Password.Reveal() != "process-pass-1" {
		t.Fatalf("loaded %+v", cfg)
	}
	t.Setenv("SIKKERKEY_HOME", home)
	t.Setenv("SIKKERKEY_IDENTITY", "")
	var auto processConfig
	if err := sikkerkey.Load(ctx, &auto); err != nil {
		t.Fatal(err)
	}
	if auto != cfg {
		t.Fatalf("auto-detected load %+v, want %+v", auto, cfg)
	}

	// Watch, then edit the file (an editor's atomic save).
	events := make(chan sdk.WatchEvent, 16)
	if err := client.Watch("sk_api_key", func(e sdk.WatchEvent) {
		select {
		case events <- e:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	saveAtomically(t, secrets, `{
	  "sk_api_key": "process-key-2",
	  "sk_db_prod": {"host": "db.local", "port": 5433, "password": "process-pass-2"}
	}`)
	deadline := time.After(10 * time.Second)
	for seen := false; !seen; {
		select {
		case e := <-events:
			switch e.Status {
			case sdk.WatchChanged:
				if e.Value != "process-key-2" {
					t.Fatalf("watch saw %q", e.Value)
				}
				seen = true
			case sdk.WatchError: // retried by the poller
			default:
				t.Fatalf("watch event %s", e.Status)
			}
		case <-deadline:
			t.Fatalf("no watch event within 10s\nstderr:\n%s", p.stderr.String())
		}
	}
	client.Unwatch("sk_api_key")
	waitValue(t, client, "sk_api_key", "process-key-2")
	if err := sikkerkey.Load(ctx, &cfg, sikkerkey.WithVault(identityPath)); err != nil {
		t.Fatal(err)
	}
	if cfg.APIKey.Reveal() != "process-key-2" || cfg.DB.Port != 5433 || cfg.DB.Password.Reveal() != "process-pass-2" {
		t.Fatalf("reloaded %+v", cfg)
	}

	p.stop(syscall.SIGTERM)
	logs := p.stderr.String()
	for _, want := range []string{"method=GET path=/v1/secret/sk_api_key", "method=POST path=/v1/secrets/poll", "status=200", "rotated=sk_api_key,sk_db_prod"} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "process-key") || strings.Contains(logs, "process-pass") {
		t.Fatalf("a secret value reached the log:\n%s", logs)
	}

	// A restart keeps the machine; the client re-reads the identity for the
	// new port. SIGINT (Ctrl-C) is a clean stop too.
	before, _, err := sdk.LoadIdentity(identityPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	p2 := startProcess(t, bin, "-addr", "127.0.0.1:0", "-home", home, "-secrets", secrets)
	after, _, err := sdk.LoadIdentity(identityPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after.MachineID != before.MachineID || after.APIURL != p2.url {
		t.Fatalf("identity after restart %+v, before %+v", after, before)
	}
	var again processConfig
	if err := sikkerkey.Load(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if again != cfg {
		t.Fatalf("after restart %+v, want %+v", again, cfg)
	}
	p2.stop(os.Interrupt)
}

func TestProcessHelpAndUsageErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "Usage: sikkerkey-devserver [flags]"},
		{[]string{"-nope"}, 2, "flag provided but not defined"},
		{[]string{"-addr", "0.0.0.0:1"}, 2, "-allow-remote"},
		{[]string{"-secrets", filepath.Join(t.TempDir(), "none.json"), "-home", t.TempDir()}, 1, "does not exist"},
	} {
		out, err := exec.Command(bin, tc.args...).CombinedOutput()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: exit %d, want %d; output:\n%s", tc.args, code, tc.code, out)
		}
	}
}
