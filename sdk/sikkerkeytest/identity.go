package sikkerkeytest

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// IdentityURL returns the apiUrl that Machine.WriteIdentity writes:
// http://localhost:<port> for a plain-HTTP server, because the official
// SDKs accept plain http only with that prefix, and URL() with WithTLS
// (https://127.0.0.1:<port>; official SDKs then need the certificate
// trusted, see Certificate).
func (s *Server) IdentityURL() string { return s.identityURL }

// WriteIdentity writes the machine's on-disk identity the way the
// bootstrap script and the GitHub Action do, so that official SikkerKey
// clients with SIKKERKEY_HOME=home find it:
//
//	<home>/vaults/<vaultId>/identity.json
//	<home>/vaults/<vaultId>/private.pem
//
// identity.json holds exactly the keys machineId, machineName, vaultId,
// apiUrl (IdentityURL) and privateKeyPath (absolute), indented by two
// spaces. private.pem is the unencrypted PKCS#8 key, PEM type "PRIVATE
// KEY", in the 48-byte layout openssl writes. Files are made 0600 and the
// three directories 0700, whatever the umask. It returns the absolute path
// of identity.json. Machines created by enrollment have no key here and
// give an error.
func (m *Machine) WriteIdentity(home string) (identityPath string, err error) {
	if m.key == nil {
		return "", errors.New("sikkerkeytest: machine " + m.id + " was enrolled; its private key is held by the client")
	}
	home, err = filepath.Abs(home)
	if err != nil {
		return "", err
	}
	vaults := filepath.Join(home, "vaults")
	dir := filepath.Join(vaults, m.s.vaultID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	for _, d := range []string{home, vaults, dir} {
		if err := os.Chmod(d, 0o700); err != nil {
			return "", err
		}
	}

	der, err := x509.MarshalPKCS8PrivateKey(m.key)
	if err != nil {
		return "", err
	}
	keyPath := filepath.Join(dir, "private.pem")
	if err := writePrivate(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return "", err
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(wire.IdentityFile{
		MachineID:      m.id,
		MachineName:    m.name,
		VaultID:        m.s.vaultID,
		APIURL:         m.s.identityURL,
		PrivateKeyPath: keyPath,
	}); err != nil {
		return "", err
	}
	identityPath = filepath.Join(dir, "identity.json")
	if err := writePrivate(identityPath, buf.Bytes()); err != nil {
		return "", err
	}
	return identityPath, nil
}

// writePrivate writes data to path with mode 0600. An existing file is
// truncated and made 0600 before anything is written to it.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
