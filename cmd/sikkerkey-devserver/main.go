package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
	"github.com/sikkerkey-go/sikkerkey/source"
)

const (
	defaultAddr    = "127.0.0.1:8787"
	defaultVault   = "vault_dev"
	defaultSecrets = "secrets.json"
	machineName    = "sikkerkey-devserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err on stderr, unless it has been reported already, and
// returns the process exit status: 0 for success and -h, 2 for a
// command-line error, 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		return 2 // already printed, with a pointer to -h
	default:
		fmt.Fprintln(stderr, "sikkerkey-devserver:", err)
		return 1
	}
}

// usageError is a command-line error. run has already printed it.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// options are the parsed command line.
type options struct {
	secrets     string
	addr        string
	home        string
	vault       string
	project     string
	allowRemote bool
}

const usageText = `Usage: sikkerkey-devserver [flags]

Runs a local SikkerKey-compatible server that serves the secrets of a JSON
file, and writes a machine identity for it under the SikkerKey home, so that
sikkerkey.Load, sdk.New("") and the official SikkerKey CLI and SDKs use it
unchanged. Editing the file rotates the secrets; a file that does not parse
keeps the previous ones. Stop it with Ctrl-C.

The file maps secret ids to a string, or to an object of fields for a
structured secret:

  {"sk_api_key": "dev-key", "sk_db_prod": {"host": "localhost", "password": "dev"}}

Example:

  sikkerkey-devserver -secrets secrets.json -home /tmp/skdev
  SIKKERKEY_HOME=/tmp/skdev go run ./your/service     # in another terminal

Flags:
`

// parseFlags parses args. Errors are printed to stderr and returned as
// *usageError, except flag.ErrHelp after -h.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("sikkerkey-devserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.secrets, "secrets", defaultSecrets, "the JSON `file` of secrets to serve; it is watched, and an edit is a rotation")
	fs.StringVar(&o.addr, "addr", defaultAddr, "the `host:port` to listen on (port 0 picks a free one); the host must be loopback unless -allow-remote")
	fs.StringVar(&o.home, "home", sdk.Home(), "the SikkerKey home `dir` to write the identity into ($SIKKERKEY_HOME, else ~/.sikkerkey)")
	fs.StringVar(&o.vault, "vault", defaultVault, "the vault `id` of the identity (\"vault_\" is added when missing)")
	fs.StringVar(&o.project, "project", "", "the project `id` every secret belongs to (default none)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow an -addr that is not a loopback address (plain HTTP: secrets cross the network unencrypted)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, &usageError{err} // the flag package printed it and the usage
	}

	fail := func(format string, a ...any) (options, error) {
		err := fmt.Errorf(format, a...)
		fmt.Fprintf(stderr, "sikkerkey-devserver: %v\nRun sikkerkey-devserver -h for usage.\n", err)
		return o, &usageError{err}
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q (flags come first, for example -secrets %s)", fs.Arg(0), fs.Arg(0))
	}
	if o.secrets == "" {
		return fail("-secrets must name a file")
	}
	if o.home == "" {
		return fail("-home must name a directory")
	}
	if !strings.HasPrefix(o.vault, "vault_") {
		o.vault = "vault_" + o.vault
	}
	if !wire.ValidSecretID(o.vault) {
		return fail("invalid -vault %q: use only A-Z, a-z, 0-9, '_' and '-'", o.vault)
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return fail("invalid -addr %q: want host:port, such as %s", o.addr, defaultAddr)
	}
	if !o.allowRemote && !isLoopbackHost(host) {
		return fail("-addr %q is not a loopback address; the dev server speaks plain HTTP, so it listens on localhost only unless you also pass -allow-remote", o.addr)
	}
	return o, nil
}

// run is the whole program: it parses args, starts the server, serves until
// ctx is done, then shuts down and returns nil. stdout gets the startup
// lines, stderr the logs.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	secretsPath, err := filepath.Abs(o.secrets)
	if err != nil {
		return err
	}
	home, err := filepath.Abs(o.home)
	if err != nil {
		return err
	}

	data, err := os.ReadFile(secretsPath)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("secrets file %s does not exist; create it, for example:\n  echo '{\"sk_api_key\": \"dev-key\"}' > %s", secretsPath, shellQuote(secretsPath))
	}
	if err != nil {
		return fmt.Errorf("secrets file: %w", err)
	}
	initial, err := parseSecrets(data)
	if err != nil {
		return fmt.Errorf("secrets file %s: %w", secretsPath, err)
	}

	vaultDir := filepath.Join(home, "vaults", o.vault)
	prev, err := previousIdentity(vaultDir, logger)
	if err != nil {
		return err
	}

	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("%w\n(is another dev server running? pass -addr 127.0.0.1:0 for a free port)", err)
	}
	if host, _, _ := net.SplitHostPort(o.addr); !isLoopbackHost(host) {
		logger.Warn("listening on a non-loopback address: secrets are served to the network over plain HTTP", "addr", l.Addr().String())
	}
	srv := sikkerkeytest.NewServer(
		sikkerkeytest.WithListener(l),
		sikkerkeytest.WithVaultID(o.vault),
		sikkerkeytest.WithLogger(logger),
	)
	defer srv.Close()

	store := newStore(srv, o.project, logger)
	store.load(data, initial)

	var m *sikkerkeytest.Machine
	if prev != nil {
		m = srv.AddMachineWithID(prev.machineID, prev.machineName, prev.key)
	} else {
		m = srv.AddMachine(machineName)
	}
	identityPath, err := m.WriteIdentity(home)
	if err != nil {
		return fmt.Errorf("writing the identity: %w", err)
	}

	w, err := newFileWatcher(secretsPath, debounce, func() { store.reload(secretsPath) })
	if err != nil {
		return err
	}
	store.reload(secretsPath) // anything saved between the first read and the watch

	printBanner(stdout, banner{
		url:          srv.IdentityURL(),
		secretsPath:  secretsPath,
		count:        len(initial),
		home:         home,
		vault:        o.vault,
		identityPath: identityPath,
		machineID:    m.ID(),
		reused:       prev != nil,
		otherVaults:  otherVaults(home, o.vault),
		exampleID:    exampleID(initial),
	})

	watchDone := make(chan struct{})
	watchCtx, stopWatch := context.WithCancel(ctx)
	go func() {
		defer close(watchDone)
		w.run(watchCtx)
	}()

	<-ctx.Done()
	logger.Info("shutting down")
	stopWatch()
	<-watchDone
	srv.Close()
	fmt.Fprintln(stdout, "sikkerkey-devserver stopped")
	return nil
}

// isLoopbackHost reports whether host (from host:port) only reaches this
// machine: localhost or a loopback IP. An empty host means every
// interface, so it is not.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// banner is what the startup lines say.
type banner struct {
	url, secretsPath string
	count            int
	home, vault      string
	identityPath     string
	machineID        string
	reused           bool
	otherVaults      []string
	exampleID        string
}

// printBanner writes the startup lines. The first one is
// "sikkerkey-devserver listening on <url>", which scripts and tests wait
// for.
func printBanner(w io.Writer, b banner) {
	state := "new"
	if b.reused {
		state = "reused"
	}
	env := ""
	if b.home != defaultHome() {
		env = "SIKKERKEY_HOME=" + shellQuote(b.home) + " "
	}
	fmt.Fprintf(w, "sikkerkey-devserver listening on %s\n", b.url)
	fmt.Fprintf(w, "  secrets:  %s (%d secrets, watched: an edit is a rotation)\n", b.secretsPath, b.count)
	fmt.Fprintf(w, "  home:     %s\n", b.home)
	fmt.Fprintf(w, "  vault:    %s\n", b.vault)
	fmt.Fprintf(w, "  identity: %s (machine %s, %s)\n", b.identityPath, b.machineID, state)
	fmt.Fprintf(w, "\nNext, in another terminal, run your service (sikkerkey.Load, sdk.New(\"\") and the\n")
	fmt.Fprintf(w, "official SDKs find the identity) or the official SikkerKey CLI:\n")
	fmt.Fprintf(w, "  %sgo run .\n", env)
	fmt.Fprintf(w, "  %ssikkerkey get %s\n", env, b.exampleID)
	if len(b.otherVaults) > 0 {
		fmt.Fprintf(w, "\nNote: %s also holds %s. Clients that auto-detect the vault will ask which\n", b.home, strings.Join(b.otherVaults, ", "))
		fmt.Fprintf(w, "one to use: pass %q (sdk.New, sikkerkey.WithVault) or set SIKKERKEY_VAULT=%s (CLI).\n", b.vault, b.vault)
	}
	fmt.Fprintf(w, "\nEdit %s to rotate secrets; press Ctrl-C to stop.\n", b.secretsPath)
}

// defaultHome is the home clients use without SIKKERKEY_HOME.
func defaultHome() string {
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".sikkerkey")
	}
	return filepath.Join(os.TempDir(), ".sikkerkey")
}

// otherVaults returns the vaults under home other than vault, sorted.
func otherVaults(home, vault string) []string {
	entries, err := os.ReadDir(filepath.Join(home, "vaults"))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.Name() == vault {
			continue
		}
		if fi, err := os.Stat(filepath.Join(home, "vaults", e.Name(), "identity.json")); err == nil && fi.Mode().IsRegular() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

// exampleID is a secret id to show in the startup lines.
func exampleID(secrets map[string]source.Value) string {
	if len(secrets) == 0 {
		return "sk_api_key"
	}
	return slices.Sorted(maps.Keys(secrets))[0]
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
