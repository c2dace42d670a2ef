package sdk

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// BootstrapInMemory enrolls a new machine with an enrollment token and
// returns a client for it, without writing anything to disk: the Ed25519 key
// is generated in memory and lives only in the returned client (protocol
// §4.9). The enrollment endpoint is WithAPIURL, else $SIKKERKEY_API_URL,
// else DefaultAPIURL; the request is unsigned, made once (no retries) under
// the per-attempt timeout. Reads go to the apiUrl the server returns (or the
// enrollment URL when it returns none), which must pass the HTTPS rule too.
func BootstrapInMemory(ctx context.Context, vaultID, enrollmentToken string, opts ...Option) (*Client, error) {
	o := buildOptions(opts)
	if vaultID == "" || enrollmentToken == "" {
		return nil, configError("BootstrapInMemory needs a vault id and an enrollment token")
	}
	if !wire.ValidSecretID(vaultID) {
		return nil, configError("vault id %q contains characters other than letters, digits, '_' and '-'", truncate(vaultID, 64))
	}
	rawBase := o.apiURL
	if rawBase == "" {
		rawBase = os.Getenv("SIKKERKEY_API_URL")
	}
	if rawBase == "" {
		rawBase = DefaultAPIURL
	}
	base, err := checkBaseURL(rawBase)
	if err != nil {
		return nil, err
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sikkerkey: generating a key: %w", err)
	}
	hostname := o.hostname
	if hostname == "" {
		hostname = os.Getenv("HOSTNAME")
	}
	if hostname == "" {
		hostname = "serverless"
	}
	body, err := json.Marshal(wire.EnrollRequest{
		Token:     enrollmentToken,
		PublicKey: base64.StdEncoding.EncodeToString(pub),
		Hostname:  hostname,
		Name:      o.machineName,
	})
	if err != nil {
		return nil, err
	}
	enrolled, err := enroll(ctx, o, base, vaultID, body)
	if err != nil {
		return nil, err
	}
	apiURL := enrolled.APIURL
	if apiURL == "" {
		apiURL = base
	}
	o.apiURL = "" // the enrollment answer decides where reads go
	return newClient(Identity{
		MachineID:   enrolled.MachineID,
		MachineName: enrolled.MachineName,
		VaultID:     enrolled.VaultID,
		APIURL:      apiURL,
	}, key, o)
}

func enroll(ctx context.Context, o options, base, vaultID string, body []byte) (*wire.EnrollResponse, error) {
	hc, own := newHTTPClient(o.httpClient)
	if own != nil {
		defer own.CloseIdleConnections()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	path := wire.EnrollPath(vaultID)
	req, err := http.NewRequestWithContext(ctx, "POST", base+path, bytes.NewReader(body))
	if err != nil {
		return nil, configError("cannot build enrollment request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, networkError("POST", path, err)
	}
	defer resp.Body.Close()
	data, err := readBody(resp, "POST", path)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &APIError{StatusCode: resp.StatusCode, Message: errorMessage(resp.StatusCode, data), Method: "POST", Path: path}
	}
	var enrolled wire.EnrollResponse
	if err := json.Unmarshal(data, &enrolled); err != nil ||
		strings.TrimSpace(enrolled.MachineID) == "" || !wire.ValidSecretID(enrolled.VaultID) {
		return nil, fmt.Errorf("%w: malformed enrollment response (machineId and a valid vaultId are required)", ErrInvalidResponse)
	}
	return &enrolled, nil
}
