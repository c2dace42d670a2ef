package sdk

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// Identity is a machine identity: who signs, for which vault, against which
// API. On disk it is identity.json written by the bootstrap script.
type Identity struct {
	MachineID   string
	MachineName string
	VaultID     string
	APIURL      string
	// PrivateKeyPath is the PEM key file; "" for a key held in memory.
	PrivateKeyPath string
}

// Identity files and keys are small; anything larger is not one.
const maxIdentityFileBytes = 1 << 20

// Home returns the SikkerKey base directory: $SIKKERKEY_HOME when set and
// non-empty, else ~/.sikkerkey, else /tmp/.sikkerkey without a home
// directory.
func Home() string {
	if h := os.Getenv("SIKKERKEY_HOME"); h != "" {
		return h
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".sikkerkey")
	}
	return filepath.Join(os.TempDir(), ".sikkerkey")
}

// ResolveIdentityPath returns the identity.json path New would use for
// vaultOrPath, following the official SDKs' precedence: an explicit path
// (starts with "/" or contains "identity.json"), else a vault id ("vault_"
// added when missing) under Home()/vaults/<id>/identity.json, else
// $SIKKERKEY_IDENTITY, else the single vault on disk.
func ResolveIdentityPath(vaultOrPath string) (string, error) {
	if vaultOrPath != "" {
		if strings.HasPrefix(vaultOrPath, "/") || strings.Contains(vaultOrPath, "identity.json") {
			return vaultOrPath, nil
		}
		id := vaultOrPath
		if !strings.HasPrefix(id, "vault_") {
			id = "vault_" + id
		}
		p := filepath.Join(Home(), "vaults", id, "identity.json")
		if _, err := os.Stat(p); err != nil {
			return "", configError("no identity found for vault '%s'. Expected: %s. Run the bootstrap command first", id, p)
		}
		return p, nil
	}
	if p := strings.TrimSpace(os.Getenv("SIKKERKEY_IDENTITY")); p != "" {
		return p, nil
	}
	vaults, err := ListVaults()
	if err != nil {
		return "", err
	}
	base := filepath.Join(Home(), "vaults")
	switch len(vaults) {
	case 1:
		return filepath.Join(base, vaults[0], "identity.json"), nil
	case 0:
		return "", configError("no SikkerKey identity found. Run the bootstrap command first.\n  Checked: %s", filepath.Join(base, "*", "identity.json"))
	default:
		return "", configError("multiple vaults registered: %s. Specify which vault to use: sdk.New(\"vault_id\")", strings.Join(vaults, ", "))
	}
}

// ListVaults returns, sorted, the vault ids that have an identity.json under
// Home()/vaults. Symlinked vault directories count. A missing vaults
// directory is no vaults, not an error.
func ListVaults() ([]string, error) {
	base := filepath.Join(Home(), "vaults")
	entries, err := os.ReadDir(base)
	if errors.Is(err, fs.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, configError("cannot list %s: %v", base, err)
	}
	vaults := []string{}
	for _, e := range entries {
		info, err := os.Stat(filepath.Join(base, e.Name(), "identity.json"))
		if err == nil && info.Mode().IsRegular() {
			vaults = append(vaults, e.Name())
		}
	}
	sort.Strings(vaults)
	return vaults, nil
}

// LoadIdentity reads identity.json and the private key it names. A relative
// or empty privateKeyPath is taken relative to the identity file's
// directory (empty means private.pem there). A key file readable by group or
// others is reported to logger as a warning; logger may be nil.
func LoadIdentity(path string, logger *slog.Logger) (Identity, ed25519.PrivateKey, error) {
	data, err := readFileAtMost(path, maxIdentityFileBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Identity{}, nil, configError("identity file not found: %s. Run the bootstrap command first", path)
		}
		return Identity{}, nil, configError("cannot read identity file %s: %v", path, err)
	}
	var f wire.IdentityFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Identity{}, nil, configError("failed to parse identity file %s: not a JSON object with machineId, vaultId, apiUrl and privateKeyPath", path)
	}
	id := Identity{
		MachineID:      strings.TrimSpace(f.MachineID),
		MachineName:    f.MachineName,
		VaultID:        strings.TrimSpace(f.VaultID),
		APIURL:         strings.TrimSpace(f.APIURL),
		PrivateKeyPath: f.PrivateKeyPath,
	}
	if id.MachineID == "" {
		return Identity{}, nil, configError("identity file %s has no machineId; re-run the bootstrap command", path)
	}
	if id.APIURL == "" {
		return Identity{}, nil, configError("identity file %s has no apiUrl; re-run the bootstrap command", path)
	}
	switch {
	case id.PrivateKeyPath == "":
		id.PrivateKeyPath = filepath.Join(filepath.Dir(path), "private.pem")
	case !filepath.IsAbs(id.PrivateKeyPath):
		id.PrivateKeyPath = filepath.Join(filepath.Dir(path), id.PrivateKeyPath)
	}
	key, err := LoadPrivateKey(id.PrivateKeyPath, logger)
	if err != nil {
		return Identity{}, nil, err
	}
	return id, key, nil
}

// LoadPrivateKey reads an Ed25519 private key from an unencrypted PKCS#8
// PEM file, as `openssl genpkey -algorithm Ed25519` writes it. A file
// readable by group or others is reported to logger (may be nil).
func LoadPrivateKey(path string, logger *slog.Logger) (ed25519.PrivateKey, error) {
	data, err := readFileAtMost(path, maxIdentityFileBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, configError("private key not found: %s. Run the bootstrap command first", path)
		}
		return nil, configError("cannot read private key %s: %v", path, err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 && logger != nil {
		logger.Warn("sikkerkey: private key file is readable by group or others; run chmod 600 on it",
			"path", path, "mode", fmt.Sprintf("%04o", info.Mode().Perm()))
	}
	key, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return key, nil
}

// ParsePrivateKey parses the first PEM block of data as an unencrypted
// PKCS#8 Ed25519 private key. Errors match ErrConfiguration and never
// contain key material.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, configError("private key is not PEM encoded; expected an Ed25519 PKCS#8 key (BEGIN PRIVATE KEY)")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, configError("private key is not an unencrypted PKCS#8 key; expected an Ed25519 key as written by `openssl genpkey -algorithm Ed25519`")
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, configError("private key is %T, not Ed25519", parsed)
	}
	return key, nil
}

// readFileAtMost reads a file of at most limit bytes; a larger one is an
// error (identity, key and cache files are small, so this bounds memory
// whatever is put in their place).
func readFileAtMost(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("file is larger than %d bytes", limit)
	}
	return data, nil
}
