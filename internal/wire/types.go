package wire

// Endpoint paths (§4). Secret ids and vault ids are inserted unescaped, which
// is safe only because they are validated first.
const (
	PathSecretPrefix = "/v1/secret/"
	PathSecrets      = "/v1/secrets"
	PathSecretsList  = "/v1/secrets/list"
	PathExport       = "/v1/secrets/export"
	PathPoll         = "/v1/secrets/poll"
)

// EnrollPath returns the unsigned enrollment path for a vault (§4.9).
func EnrollPath(vaultID string) string { return "/v1/" + vaultID + "/enroll/register" }

// Poll statuses as sent by the server (§4.5).
const (
	PollChanged      = "changed"
	PollDeleted      = "deleted"
	PollAccessDenied = "access_denied"
)

// SecretResponse is the body of GET /v1/secret/{id} (§4.1).
type SecretResponse struct {
	Value string `json:"value"`
}

// ListItem is one entry of a list response (§4.2, §4.3). FieldNames and
// ProjectID are JSON strings or null.
type ListItem struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	FieldNames *string `json:"fieldNames"`
	ProjectID  *string `json:"projectId"`
}

// ListResponse is the body of GET /v1/secrets and POST /v1/secrets/list.
type ListResponse struct {
	Secrets []ListItem `json:"secrets"`
}

// ProjectRequest is the body of POST /v1/secrets/list and of a
// project-scoped POST /v1/secrets/export.
type ProjectRequest struct {
	ProjectID string `json:"projectId"`
}

// ExportItem is one entry of an export response (§4.4): no projectId.
type ExportItem struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Value      string  `json:"value"`
	FieldNames *string `json:"fieldNames"`
}

// ExportResponse is the body of POST /v1/secrets/export.
type ExportResponse struct {
	Secrets []ExportItem `json:"secrets"`
}

// PollRequest is the body of POST /v1/secrets/poll.
type PollRequest struct {
	Watch []string `json:"watch"`
}

// PollChange is one entry of a poll response; it has only a status.
type PollChange struct {
	Status string `json:"status"`
}

// PollResponse is the body of a poll answer. Only secrets with news appear.
type PollResponse struct {
	Changes map[string]PollChange `json:"changes"`
}

// EnrollRequest is the unsigned enrollment body (§4.9); Name is left out
// when empty.
type EnrollRequest struct {
	Token     string `json:"token"`
	PublicKey string `json:"publicKey"`
	Hostname  string `json:"hostname"`
	Name      string `json:"name,omitempty"`
}

// EnrollResponse is the 2xx enrollment answer (§4.9).
type EnrollResponse struct {
	MachineID   string `json:"machineId"`
	MachineName string `json:"machineName"`
	VaultID     string `json:"vaultId"`
	ExpiresAt   int64  `json:"expiresAt"`
	APIURL      string `json:"apiUrl"`
}

// ErrorResponse is every error body: exactly {"error": "..."}.
type ErrorResponse struct {
	Error string `json:"error"`
}

// IdentityFile is identity.json as the bootstrap script writes it: exactly
// these five keys, in this order (§1).
type IdentityFile struct {
	MachineID      string `json:"machineId"`
	MachineName    string `json:"machineName"`
	VaultID        string `json:"vaultId"`
	APIURL         string `json:"apiUrl"`
	PrivateKeyPath string `json:"privateKeyPath"`
}
