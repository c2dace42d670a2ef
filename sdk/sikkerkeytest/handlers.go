package sikkerkeytest

import (
	"net/http"
	"strings"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// endpoint is one route of the API.
type endpoint struct {
	method string
	signed bool // a machine route: signature checked, body must be JSON
	handle func(*exchange)
}

var (
	epSecret        = &endpoint{http.MethodGet, true, (*exchange).getSecret}
	epList          = &endpoint{http.MethodGet, true, (*exchange).listAll}
	epListByProject = &endpoint{http.MethodPost, true, (*exchange).listByProject}
	epExport        = &endpoint{http.MethodPost, true, (*exchange).export}
	epPoll          = &endpoint{http.MethodPost, true, (*exchange).poll}
	epEnroll        = &endpoint{http.MethodPost, false, (*exchange).enroll}
)

// match finds the endpoint for a raw request path and its parameter (the
// secret id or the vault id). Paths are matched as sent: never cleaned,
// unescaped or redirected.
func match(path string) (*endpoint, string) {
	switch path {
	case wire.PathSecrets:
		return epList, ""
	case wire.PathSecretsList:
		return epListByProject, ""
	case wire.PathExport:
		return epExport, ""
	case wire.PathPoll:
		return epPoll, ""
	}
	if id, ok := strings.CutPrefix(path, wire.PathSecretPrefix); ok && id != "" && !strings.Contains(id, "/") {
		return epSecret, id
	}
	if rest, ok := strings.CutPrefix(path, "/v1/"); ok {
		if vault, ok := strings.CutSuffix(rest, "/enroll/register"); ok && vault != "" && !strings.Contains(vault, "/") {
			return epEnroll, vault
		}
	}
	return nil, ""
}

// serveHTTP is the server's handler: record the request, wait out the
// latency, apply injected faults, then route it.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	x := s.record(w, r)
	defer x.logRequest()
	switch {
	case !s.pause(r.Context()):
		x.drop() // the client went away or the server is closing
	case !s.injectFault(x):
		s.route(x)
	}
}

// route answers a request: 404 for an unknown path, 405 for a wrong
// method, 503 while sealed, then authentication on machine routes, then
// the endpoint's handler.
func (s *Server) route(x *exchange) {
	ep, arg := match(x.path)
	if ep == nil {
		x.failWith(http.StatusNotFound, "not found")
		return
	}
	if x.r.Method != ep.method {
		x.w.Header().Set("Allow", ep.method)
		x.failWith(http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if s.isSealed() {
		x.failWith(http.StatusServiceUnavailable, "vault is sealed")
		return
	}
	if !x.readBody() {
		return
	}
	x.arg = arg
	if ep.signed {
		m, err := s.authenticate(x.r, x.path, x.hasQuery, x.body)
		if err != nil {
			x.fail(err)
			return
		}
		x.m = m
		if len(x.body) > 0 && !jsonContentType(x.r.Header.Get("Content-Type")) {
			x.failWith(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
			return
		}
	}
	ep.handle(x)
}

// getSecret serves GET /v1/secret/{id} and records the version read.
func (x *exchange) getSecret() {
	value, err := x.s.read(x.m, x.arg)
	if err != nil {
		x.fail(err)
		return
	}
	x.reply(http.StatusOK, wire.SecretResponse{Value: value})
}

// read returns the value of a secret for m and records its version as
// given to m. s.mu must not be held.
func (s *Server) read(m *Machine, id string) (string, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secrets[id]
	switch {
	case sec == nil:
		return "", &apiError{http.StatusNotFound, "secret not found"}
	case m.revoked[id]:
		return "", &apiError{http.StatusForbidden, "machine has no access to this secret"}
	}
	m.seen[id] = watchState{version: sec.version}
	return sec.value, nil
}

// listAll serves GET /v1/secrets.
func (x *exchange) listAll() { x.list("") }

// listByProject serves POST /v1/secrets/list, whose body must name a
// project.
func (x *exchange) listByProject() {
	var req wire.ProjectRequest
	if !x.decode(&req, false) {
		return
	}
	if req.ProjectID == "" {
		x.failWith(http.StatusBadRequest, "projectId is required")
		return
	}
	x.list(req.ProjectID)
}

// list answers with the secrets the machine may read in a project ("" for
// all). Lists carry no values and are not reads (§12h).
func (x *exchange) list(projectID string) {
	s := x.s
	s.mu.Lock()
	secrets := s.readable(x.m, inProject(projectID))
	items := make([]wire.ListItem, len(secrets))
	for i, sec := range secrets {
		items[i] = wire.ListItem{ID: sec.id, Name: sec.name, FieldNames: sec.fieldNames, ProjectID: sec.projectID}
	}
	s.mu.Unlock()
	x.reply(http.StatusOK, wire.ListResponse{Secrets: items})
}

// export serves POST /v1/secrets/export: every secret the machine may read,
// or those of the project in the optional body ({"projectId": ""} means
// all, as KT and .NET send it). The CLI's applicationId is ignored: the
// server has no applications. Exported secrets count as read (§12h).
func (x *exchange) export() {
	var req wire.ProjectRequest
	if !x.decode(&req, true) {
		return
	}
	s := x.s
	s.mu.Lock()
	secrets := s.readable(x.m, inProject(req.ProjectID))
	items := make([]wire.ExportItem, len(secrets))
	for i, sec := range secrets {
		items[i] = wire.ExportItem{ID: sec.id, Name: sec.name, Value: sec.value, FieldNames: sec.fieldNames}
		x.m.seen[sec.id] = watchState{version: sec.version}
	}
	s.mu.Unlock()
	x.reply(http.StatusOK, wire.ExportResponse{Secrets: items})
}
