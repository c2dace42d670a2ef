package sdk

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// Sentinel errors. Every error returned by this package matches at most a
// few of them with errors.Is; HTTP failures are also an *APIError.
var (
	// ErrConfiguration: the identity, key, URL or an option is unusable.
	ErrConfiguration = errors.New("sikkerkey: configuration error")
	// ErrInvalidSecretID: a secret id is not made of A-Z, a-z, 0-9, '_' and '-'.
	// No request is made for such an id.
	ErrInvalidSecretID = errors.New("sikkerkey: invalid secret id")
	// ErrSecretStructure: a structured read of a secret whose value is not a
	// JSON object.
	ErrSecretStructure = errors.New("sikkerkey: secret is not structured")
	// ErrFieldNotFound: the structured secret has no such field.
	ErrFieldNotFound = errors.New("sikkerkey: field not found")
	// ErrAuthentication: HTTP 401; the signature, clock or machine is not accepted.
	ErrAuthentication = errors.New("sikkerkey: authentication failed")
	// ErrAccessDenied: HTTP 403; the machine is not approved, is disabled, or
	// has no grant for the secret.
	ErrAccessDenied = errors.New("sikkerkey: access denied")
	// ErrNotFound: HTTP 404; the secret does not exist.
	ErrNotFound = errors.New("sikkerkey: not found")
	// ErrConflict: HTTP 409.
	ErrConflict = errors.New("sikkerkey: conflict")
	// ErrRateLimited: HTTP 429, after retries.
	ErrRateLimited = errors.New("sikkerkey: rate limited")
	// ErrServerSealed: HTTP 503, after retries; the vault is sealed or the
	// service is temporarily unavailable.
	ErrServerSealed = errors.New("sikkerkey: server sealed or temporarily unavailable")
	// ErrUnavailable: no usable answer from the API: a network failure or
	// timeout (status 0), or HTTP 502, 503, 504, 520-527 or 530. These are
	// exactly the failures the offline cache may answer for.
	ErrUnavailable = errors.New("sikkerkey: API unavailable")
	// ErrInvalidResponse: the server answered 200 with a body that is not
	// what the protocol says (invalid JSON, wrong shape, too large).
	ErrInvalidResponse = errors.New("sikkerkey: invalid response from server")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("sikkerkey: client closed")
)

// APIError is a failed HTTP exchange with the SikkerKey API. StatusCode is 0
// when no answer arrived (network failure, timeout); Err then holds the cause.
// Message is the server's {"error": ...} text, or a short description.
// It never contains a secret value.
type APIError struct {
	StatusCode int
	Message    string
	Method     string
	Path       string
	// RetryAfter is the server's Retry-After hint, zero when absent.
	RetryAfter time.Duration
	// Err is the underlying transport error for StatusCode 0.
	Err error
}

// Error describes the failure and what to do about it.
func (e *APIError) Error() string {
	what := e.Method + " " + e.Path
	if e.StatusCode == 0 {
		return fmt.Sprintf("sikkerkey: %s: network error: %s; check the apiUrl and network access to the SikkerKey API", what, e.Message)
	}
	msg := fmt.Sprintf("sikkerkey: %s: HTTP %d", what, e.StatusCode)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if hint := statusHint(e.StatusCode); hint != "" {
		msg += " (" + hint + ")"
	}
	return msg
}

// Unwrap returns the transport error of a network failure.
func (e *APIError) Unwrap() error { return e.Err }

// Is maps the status code onto the package's sentinel errors.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrAuthentication:
		return e.StatusCode == http.StatusUnauthorized
	case ErrAccessDenied:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServerSealed:
		return e.StatusCode == http.StatusServiceUnavailable
	case ErrUnavailable:
		return IsUnavailableStatus(e.StatusCode)
	}
	return false
}

// IsUnavailableStatus reports whether an HTTP status (0 for no answer) means
// the API is unavailable rather than answering: 0, 502, 503, 504, 520-527,
// 530. Only these may be served from the offline cache; 401, 403, 404, 429
// and every other answer are authoritative.
func IsUnavailableStatus(code int) bool {
	switch {
	case code == 0, code == 502, code == 503, code == 504, code == 530:
		return true
	case code >= 520 && code <= 527:
		return true
	}
	return false
}

func statusHint(code int) string {
	switch code {
	case http.StatusUnauthorized:
		return "check that the machine still exists and the system clock is within 5 minutes of real time"
	case http.StatusForbidden:
		return "check that the machine is approved and enabled and has been granted this secret"
	case http.StatusNotFound:
		return "check the secret id"
	case http.StatusTooManyRequests:
		return "too many requests; slow down"
	case http.StatusServiceUnavailable:
		return "the vault is sealed or the service is temporarily unavailable; try again later"
	}
	if code >= 300 && code < 400 {
		return "redirects are never followed; check the apiUrl"
	}
	return ""
}

// configError returns an error matching ErrConfiguration with a message.
func configError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfiguration, fmt.Sprintf(format, args...))
}

// checkID validates a secret id before any request is made.
func checkID(id string) error {
	if !wire.ValidSecretID(id) {
		return fmt.Errorf("%w %q: ids contain only letters, digits, '_' and '-'", ErrInvalidSecretID, truncate(id, 64))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
