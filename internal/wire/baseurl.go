package wire

import (
	"errors"
	"net/url"
	"strings"
)

// ErrInsecureURL is returned by CheckBaseURL for a base URL that breaks the
// HTTPS rule (§12a).
var ErrInsecureURL = errors.New("API URL must use HTTPS (http is allowed only for localhost, 127.0.0.1 or [::1])")

// CheckBaseURL parses a base URL and applies the HTTPS rule (§12a): scheme
// https, or http with host exactly localhost, 127.0.0.1 or ::1; no userinfo,
// a host, no query or fragment. It returns the URL with trailing slashes
// trimmed from its path (§12c). Error messages never echo userinfo.
func CheckBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", errors.New("API URL is not a valid URL")
	}
	if u.User != nil {
		return "", errors.New("API URL must not contain user information")
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", errors.New("API URL has no host")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", errors.New("API URL must not have a query string or fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		switch u.Hostname() {
		case "localhost", "127.0.0.1", "::1":
		default:
			return "", ErrInsecureURL
		}
	default:
		return "", ErrInsecureURL
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}
