package sikkerkeytest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

func TestGetSecret(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_plain", "Plain", "", "p<&>ss")
	h.srv.PutFields("sk_db", "DB", "proj", map[string]string{"user": "u", "pass": "p"})

	res := h.get(m, "sk_plain")
	wantStatus(t, res, http.StatusOK)
	wantKeys(t, res.obj, "value")
	if res.obj["value"] != "p<&>ss" {
		t.Fatalf("value %q", res.obj["value"])
	}

	res = h.get(m, "sk_db")
	wantStatus(t, res, http.StatusOK)
	fields, err := wire.ParseFields(res.obj["value"].(string))
	if err != nil || !reflect.DeepEqual(fields, map[string]string{"user": "u", "pass": "p"}) {
		t.Fatalf("fields %v, %v", fields, err)
	}

	wantStatus(t, h.get(m, "sk_missing"), http.StatusNotFound)
	wantStatus(t, h.get(m, "sk%2Fx"), http.StatusNotFound)

	h.srv.Revoke(m.ID(), "sk_plain")
	wantStatus(t, h.get(m, "sk_plain"), http.StatusForbidden)
	h.srv.Grant(m.ID(), "sk_plain")
	wantStatus(t, h.get(m, "sk_plain"), http.StatusOK)

	if !h.srv.Rotate("sk_plain", "new") || h.srv.Rotate("sk_missing", "x") {
		t.Fatal("Rotate result")
	}
	if v := h.get(m, "sk_plain").obj["value"]; v != "new" {
		t.Fatalf("after rotate %v", v)
	}
	if !h.srv.Delete("sk_plain") || h.srv.Delete("sk_plain") {
		t.Fatal("Delete result")
	}
	wantStatus(t, h.get(m, "sk_plain"), http.StatusNotFound)
}

func TestRoutingErrors(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")
	for _, path := range []string{"/", "/v1/secret/", "/v1/secret/sk_a/sync-config", "//v1/secrets", "/v1/secrets/", "/v1/cli/secrets", "/v1/secret"} {
		res := h.call(m, http.MethodGet, path, nil)
		wantStatus(t, res, http.StatusNotFound)
		if res.header.Get("Location") != "" {
			t.Fatalf("%s redirected", path)
		}
	}
	for _, c := range []struct{ method, path, allow string }{
		{http.MethodPost, "/v1/secret/sk_a", "GET"},
		{http.MethodPost, wire.PathSecrets, "GET"},
		{http.MethodGet, wire.PathSecretsList, "POST"},
		{http.MethodGet, wire.PathExport, "POST"},
		{http.MethodPut, wire.PathPoll, "POST"},
		{http.MethodDelete, wire.PathSecrets, "GET"},
		{http.MethodGet, wire.EnrollPath(h.srv.VaultID()), "POST"},
	} {
		res := h.call(m, c.method, c.path, nil)
		wantStatus(t, res, http.StatusMethodNotAllowed)
		if got := res.header.Get("Allow"); got != c.allow {
			t.Fatalf("%s %s: Allow %q", c.method, c.path, got)
		}
	}
}

func TestBodyRules(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "p", "v")

	body := []byte(`{"projectId":"p"}`)
	for ct, want := range map[string]int{
		"application/json":                 http.StatusOK,
		"application/json; charset=utf-8":  http.StatusOK,
		"Application/JSON; charset=UTF-8":  http.StatusOK,
		"text/plain":                       http.StatusUnsupportedMediaType,
		"application/json; charset=latin1": http.StatusUnsupportedMediaType,
		"":                                 http.StatusUnsupportedMediaType,
	} {
		req := h.signed(m, http.MethodPost, wire.PathSecretsList, body)
		req.Header.Set("Content-Type", ct)
		if ct == "" {
			req.Header.Del("Content-Type")
		}
		if res := h.do(req); res.status != want {
			t.Fatalf("Content-Type %q: status %d, want %d", ct, res.status, want)
		}
	}

	for _, bad := range []string{`{"projectId":`, `[]`, `"p"`, `{"projectId":1}`} {
		wantStatus(t, h.call(m, http.MethodPost, wire.PathSecretsList, bad), http.StatusBadRequest)
		wantStatus(t, h.call(m, http.MethodPost, wire.PathExport, bad), http.StatusBadRequest)
		wantStatus(t, h.call(m, http.MethodPost, wire.PathPoll, bad), http.StatusBadRequest)
	}

	big := append(append([]byte(`{"projectId":"`), bytes.Repeat([]byte("x"), 1<<20)...), `"}`...)
	wantStatus(t, h.call(m, http.MethodPost, wire.PathSecretsList, big), http.StatusRequestEntityTooLarge)
}

func TestListSecrets(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	other := h.srv.AddMachine("other")
	h.srv.PutSecret("sk_c", "C", "p1", "c")
	h.srv.PutSecret("sk_a", "A", "", "a")
	h.srv.PutFields("sk_b", "B", "p1", map[string]string{"y": "1", "x": "2"})
	h.srv.PutFields("sk_e", "E", "p2", nil)
	h.srv.PutSecret("sk_d", "D", "p1", "d")
	h.srv.Revoke(m.ID(), "sk_d")

	res := h.call(m, http.MethodGet, wire.PathSecrets, nil)
	wantStatus(t, res, http.StatusOK)
	wantKeys(t, res.obj, "secrets")
	for _, item := range res.obj["secrets"].([]any) {
		wantKeys(t, item, "id", "name", "fieldNames", "projectId")
	}
	if strings.Contains(string(res.raw), `"value"`) {
		t.Fatal("list carries values")
	}
	got := decodeList(t, res)
	str := func(s string) *string { return &s }
	want := []wire.ListItem{
		{ID: "sk_a", Name: "A"},
		{ID: "sk_b", Name: "B", FieldNames: str("x,y"), ProjectID: str("p1")},
		{ID: "sk_c", Name: "C", ProjectID: str("p1")},
		{ID: "sk_e", Name: "E", FieldNames: str(""), ProjectID: str("p2")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("list\n got %s\nwant %s", dump(got), dump(want))
	}

	res = h.call(m, http.MethodPost, wire.PathSecretsList, wire.ProjectRequest{ProjectID: "p1"})
	wantStatus(t, res, http.StatusOK)
	if got := decodeList(t, res); !reflect.DeepEqual(got, want[1:3]) {
		t.Fatalf("project list %s", dump(got))
	}
	// The other machine still sees sk_d.
	res = h.call(other, http.MethodPost, wire.PathSecretsList, wire.ProjectRequest{ProjectID: "p1"})
	if got := decodeList(t, res); len(got) != 3 {
		t.Fatalf("other machine %s", dump(got))
	}

	res = h.call(m, http.MethodPost, wire.PathSecretsList, wire.ProjectRequest{ProjectID: "nope"})
	wantStatus(t, res, http.StatusOK)
	if string(res.raw) != `{"secrets":[]}` {
		t.Fatalf("empty list %s", res.raw)
	}
	wantStatus(t, h.call(m, http.MethodPost, wire.PathSecretsList, `{"projectId":""}`), http.StatusBadRequest)
	wantStatus(t, h.call(m, http.MethodPost, wire.PathSecretsList, nil), http.StatusBadRequest)
}

func TestExport(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_b", "B", "p1", "b")
	h.srv.PutFields("sk_a", "A", "", map[string]string{"k": "v"})
	h.srv.PutSecret("sk_c", "C", "p2", "c")
	h.srv.PutSecret("sk_d", "D", "p1", "d")
	h.srv.Revoke(m.ID(), "sk_d")

	str := func(s string) *string { return &s }
	all := []wire.ExportItem{
		{ID: "sk_a", Name: "A", Value: `{"k":"v"}`, FieldNames: str("k")},
		{ID: "sk_b", Name: "B", Value: "b"},
		{ID: "sk_c", Name: "C", Value: "c"},
	}
	for _, body := range []any{nil, `{"projectId":""}`, `{}`} {
		res := h.call(m, http.MethodPost, wire.PathExport, body)
		wantStatus(t, res, http.StatusOK)
		wantKeys(t, res.obj, "secrets")
		for _, item := range res.obj["secrets"].([]any) {
			wantKeys(t, item, "id", "name", "value", "fieldNames")
		}
		if got := decodeExport(t, res); !reflect.DeepEqual(got, all) {
			t.Fatalf("export %v: %s", body, dump(got))
		}
	}
	res := h.call(m, http.MethodPost, wire.PathExport, wire.ProjectRequest{ProjectID: "p1"})
	if got := decodeExport(t, res); !reflect.DeepEqual(got, all[1:2]) {
		t.Fatalf("project export %s", dump(got))
	}
	res = h.call(m, http.MethodPost, wire.PathExport, wire.ProjectRequest{ProjectID: "none"})
	if string(res.raw) != `{"secrets":[]}` {
		t.Fatalf("empty export %s", res.raw)
	}
}

func decodeList(t *testing.T, res result) []wire.ListItem {
	t.Helper()
	var lr wire.ListResponse
	if err := json.Unmarshal(res.raw, &lr); err != nil {
		t.Fatal(err)
	}
	return lr.Secrets
}

func decodeExport(t *testing.T, res result) []wire.ExportItem {
	t.Helper()
	var er wire.ExportResponse
	if err := json.Unmarshal(res.raw, &er); err != nil {
		t.Fatal(err)
	}
	return er.Secrets
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSealed(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")
	token := h.srv.NewEnrollmentToken()
	h.srv.Seal()
	for _, res := range []result{
		h.get(m, "sk_a"),
		h.call(m, http.MethodGet, wire.PathSecrets, nil),
		h.call(m, http.MethodPost, wire.PathSecretsList, `{"projectId":"p"}`),
		h.call(m, http.MethodPost, wire.PathExport, nil),
		h.call(m, http.MethodPost, wire.PathPoll, `{"watch":["sk_a"]}`),
		h.do(h.request(http.MethodGet, "/v1/secret/sk_a", nil)), // unsigned too
		h.enroll(wire.EnrollRequest{Token: token, PublicKey: vectorPublicB64, Hostname: "h"}),
	} {
		wantStatus(t, res, http.StatusServiceUnavailable)
	}
	wantStatus(t, h.call(m, http.MethodGet, "/nope", nil), http.StatusNotFound)
	h.srv.Unseal()
	wantStatus(t, h.get(m, "sk_a"), http.StatusOK)
}

func TestRotateStructured(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutFields("sk_db", "DB", "", map[string]string{"user": "u"})
	fieldNames := func() any {
		res := h.call(m, http.MethodGet, wire.PathSecrets, nil)
		return res.obj["secrets"].([]any)[0].(map[string]any)["fieldNames"]
	}

	h.srv.Rotate("sk_db", `{"user":"u","pass":"p","port":5432}`)
	if got := fieldNames(); got != "pass,port,user" {
		t.Fatalf("fieldNames after Rotate %v", got)
	}
	h.srv.Rotate("sk_db", `not json`) // kept as is; fieldNames unchanged
	if got := fieldNames(); got != "pass,port,user" {
		t.Fatalf("fieldNames after a non-object Rotate %v", got)
	}
	if !h.srv.RotateFields("sk_db", map[string]string{"a": "<&>"}) || h.srv.RotateFields("sk_none", nil) {
		t.Fatal("RotateFields result")
	}
	if got := h.get(m, "sk_db").obj["value"]; got != `{"a":"<&>"}` {
		t.Fatalf("value %v", got)
	}

	// A plain secret stays plain when rotated to JSON text; RotateFields
	// makes it structured.
	h.srv.PutSecret("sk_db", "DB", "", "x")
	h.srv.Rotate("sk_db", `{"a":"b"}`)
	if got := fieldNames(); got != nil {
		t.Fatalf("plain secret got fieldNames %v", got)
	}
	h.srv.RotateFields("sk_db", nil)
	if got := fieldNames(); got != "" {
		t.Fatalf("fieldNames %v", got)
	}
}
