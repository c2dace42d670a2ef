package main

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// devIdentity is a dev server identity left by an earlier run.
type devIdentity struct {
	machineID   string
	machineName string
	key         ed25519.PrivateKey
}

// previousIdentity looks at a vault directory before anything is written
// to it. It returns the identity of an earlier run to reuse, nil when
// there is none (or when it cannot be reused, which is logged: a fresh
// identity replaces it), or an error when the directory holds something
// that may belong to a real SikkerKey machine, which must not be
// overwritten.
func previousIdentity(dir string, logger *slog.Logger) (*devIdentity, error) {
	identityPath := filepath.Join(dir, "identity.json")
	keyPath := filepath.Join(dir, "private.pem")
	data, err := os.ReadFile(identityPath)
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Lstat(keyPath); err == nil {
			return nil, fmt.Errorf("refusing to overwrite %s: it has no identity.json next to it, so it may be the key of a real SikkerKey machine; move it away or pass another -vault or -home", keyPath)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the existing identity: %w", err)
	}
	var f wire.IdentityFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("refusing to overwrite %s: it is not an identity file this dev server can read; move it away or pass another -vault or -home", identityPath)
	}
	if !isLoopbackURL(strings.TrimSpace(f.APIURL)) {
		return nil, fmt.Errorf("refusing to overwrite %s: it is the identity of a real SikkerKey machine (apiUrl %q), not of a dev server; pass another -vault or -home", identityPath, f.APIURL)
	}

	// A dev identity: reuse it if it is whole.
	id := strings.TrimSpace(f.MachineID)
	if !wire.ValidSecretID(id) {
		logger.Warn("the previous dev identity has an invalid machine id; writing a fresh identity", "identity", identityPath)
		return nil, nil
	}
	key, err := sdk.LoadPrivateKey(keyPath, nil)
	if err != nil {
		logger.Warn("cannot load the previous dev identity's key; writing a fresh identity", "identity", identityPath, "err", err)
		return nil, nil
	}
	name := f.MachineName
	if name == "" {
		name = machineName
	}
	return &devIdentity{machineID: id, machineName: name, key: key}, nil
}

// isLoopbackURL reports whether an identity's apiUrl points at this
// machine (http or https to localhost or a loopback IP), as a dev
// server's does.
func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
