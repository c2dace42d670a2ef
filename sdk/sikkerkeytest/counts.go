package sikkerkeytest

import (
	"strings"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// RequestCounts is how many requests of each kind the server received
// (see Requests), whatever their status: the usual assertion of a test that
// checks how many round trips the code under test makes.
type RequestCounts struct {
	Reads       int // GET /v1/secret/{id}
	Lists       int // GET /v1/secrets and POST /v1/secrets/list
	Exports     int // POST /v1/secrets/export
	Polls       int // POST /v1/secrets/poll
	Enrollments int // POST /v1/{vault}/enroll/register
	Other       int // anything else
}

// RequestCounts counts the requests in Requests by kind.
func (s *Server) RequestCounts() RequestCounts {
	var c RequestCounts
	for _, r := range s.Requests() {
		switch {
		case strings.HasPrefix(r.Path, wire.PathSecretPrefix):
			c.Reads++
		case r.Path == wire.PathSecrets, r.Path == wire.PathSecretsList:
			c.Lists++
		case r.Path == wire.PathExport:
			c.Exports++
		case r.Path == wire.PathPoll:
			c.Polls++
		case strings.HasSuffix(r.Path, "/enroll/register"):
			c.Enrollments++
		default:
			c.Other++
		}
	}
	return c
}
