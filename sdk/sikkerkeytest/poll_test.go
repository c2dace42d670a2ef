package sikkerkeytest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

func TestPollResponseShape(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v")

	res := h.call(m, http.MethodPost, wire.PathPoll, `{"watch":[]}`)
	wantStatus(t, res, http.StatusOK)
	if string(res.raw) != `{"changes":{}}` {
		t.Fatalf("empty poll %s", res.raw)
	}
	h.get(m, "sk_a")
	h.srv.Rotate("sk_a", "w")
	res = h.call(m, http.MethodPost, wire.PathPoll, `{"watch": ["sk_a"]}`)
	wantStatus(t, res, http.StatusOK)
	wantKeys(t, res.obj, "changes")
	changes := res.obj["changes"].(map[string]any)
	wantKeys(t, changes, "sk_a")
	wantKeys(t, changes["sk_a"], "status")

	for _, bad := range []string{`{}`, `{"watch":null}`, `{"watch":["sk_a","bad/id"]}`, `{"watch":[""]}`, `{"watch":"sk_a"}`} {
		wantStatus(t, h.call(m, http.MethodPost, wire.PathPoll, bad), http.StatusBadRequest)
	}
	wantStatus(t, h.call(m, http.MethodPost, wire.PathPoll, nil), http.StatusBadRequest)
}

func TestPollBaseline(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	other := h.srv.AddMachine("other")
	h.srv.PutSecret("sk_a", "A", "", "v1")
	none := map[string]string{}
	changed := map[string]string{"sk_a": wire.PollChanged}

	// Never read or polled: baselined silently, then quiet.
	wantChanges(t, h.poll(m, "sk_a"), none)
	wantChanges(t, h.poll(m, "sk_a"), none)

	// A rotation is reported once.
	h.srv.Rotate("sk_a", "v2")
	wantChanges(t, h.poll(m, "sk_a", "sk_a"), changed)
	wantChanges(t, h.poll(m, "sk_a"), none)

	// Two rotations between polls are one change.
	h.srv.Rotate("sk_a", "v3")
	h.srv.Rotate("sk_a", "v4")
	wantChanges(t, h.poll(m, "sk_a"), changed)

	// A read records the version: rotation then read is no news...
	h.srv.Rotate("sk_a", "v5")
	wantStatus(t, h.get(m, "sk_a"), http.StatusOK)
	wantChanges(t, h.poll(m, "sk_a"), none)
	// ...and a read then rotation is.
	h.srv.Rotate("sk_a", "v6")
	wantChanges(t, h.poll(m, "sk_a"), changed)

	// Export counts as a read.
	h.srv.Rotate("sk_a", "v7")
	wantStatus(t, h.call(m, http.MethodPost, wire.PathExport, nil), http.StatusOK)
	wantChanges(t, h.poll(m, "sk_a"), none)

	// Lists do not.
	h.srv.Rotate("sk_a", "v8")
	wantStatus(t, h.call(m, http.MethodGet, wire.PathSecrets, nil), http.StatusOK)
	wantStatus(t, h.call(m, http.MethodPost, wire.PathSecretsList, `{"projectId":"x"}`), http.StatusOK)
	wantChanges(t, h.poll(m, "sk_a"), changed)

	// Read on first sight, then changed: the read is the baseline.
	h.srv.PutSecret("sk_r", "R", "", "r1")
	wantStatus(t, h.get(m, "sk_r"), http.StatusOK)
	h.srv.Rotate("sk_r", "r2")
	wantChanges(t, h.poll(m, "sk_r"), map[string]string{"sk_r": wire.PollChanged})

	// Machines are independent: "other" never saw sk_a.
	wantChanges(t, h.poll(other, "sk_a"), none)
}

func TestPollDeleted(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v1")
	deleted := map[string]string{"sk_a": wire.PollDeleted}

	wantChanges(t, h.poll(m, "sk_a"), map[string]string{})
	h.srv.Delete("sk_a")
	wantChanges(t, h.poll(m, "sk_a"), deleted)
	wantChanges(t, h.poll(m, "sk_a"), map[string]string{})

	// Created again: a new first sighting, silent.
	h.srv.PutSecret("sk_a", "A", "", "again")
	wantChanges(t, h.poll(m, "sk_a"), map[string]string{})
	h.srv.Rotate("sk_a", "again2")
	wantChanges(t, h.poll(m, "sk_a"), map[string]string{"sk_a": wire.PollChanged})

	// An id that never existed is reported deleted, once.
	wantChanges(t, h.poll(m, "sk_never"), map[string]string{"sk_never": wire.PollDeleted})
	wantChanges(t, h.poll(m, "sk_never"), map[string]string{})
}

func TestPollAccessDenied(t *testing.T) {
	h := newHarness(t)
	m := h.srv.AddMachine("m")
	h.srv.PutSecret("sk_a", "A", "", "v1")
	h.srv.PutSecret("sk_b", "B", "", "v1")
	denied := map[string]string{"sk_a": wire.PollAccessDenied}

	wantStatus(t, h.get(m, "sk_a"), http.StatusOK)
	h.srv.Revoke(m.ID(), "sk_a")
	wantChanges(t, h.poll(m, "sk_a", "sk_b"), denied)
	wantChanges(t, h.poll(m, "sk_a", "sk_b"), map[string]string{})

	// Granted again: silent re-baseline; revoked again: reported again.
	h.srv.Grant(m.ID(), "sk_a")
	h.srv.Rotate("sk_a", "v2")
	wantChanges(t, h.poll(m, "sk_a"), map[string]string{})
	h.srv.Revoke(m.ID(), "sk_a")
	wantChanges(t, h.poll(m, "sk_a"), denied)

	// Revoked before ever being seen: reported on the first poll.
	h.srv.Revoke(m.ID(), "sk_c") // before the secret even exists
	h.srv.PutSecret("sk_c", "C", "", "v1")
	wantChanges(t, h.poll(m, "sk_c"), map[string]string{"sk_c": wire.PollAccessDenied})
	wantStatus(t, h.get(m, "sk_c"), http.StatusForbidden)

	if h.srv.Revoke("no-such-machine", "sk_a") || h.srv.Grant("no-such-machine", "sk_a") {
		t.Fatal("Revoke/Grant for an unknown machine reported success")
	}
}

func TestPollMinInterval(t *testing.T) {
	h := newClockHarness(t, 1_800_000_000, sikkerkeytest.WithPollMinInterval(10*time.Second))
	m := h.srv.AddMachine("m")
	other := h.srv.AddMachine("other")
	body := `{"watch":["sk_a"]}`

	wantStatus(t, h.call(m, http.MethodPost, wire.PathPoll, body), http.StatusOK)
	h.clock.Add(4500 * time.Millisecond)
	res := h.call(m, http.MethodPost, wire.PathPoll, body)
	wantStatus(t, res, http.StatusTooManyRequests)
	if got := res.header.Get("Retry-After"); got != "6" {
		t.Fatalf("Retry-After %q", got)
	}
	// Per machine.
	wantStatus(t, h.call(other, http.MethodPost, wire.PathPoll, body), http.StatusOK)
	// Reads are not limited.
	wantStatus(t, h.get(m, "sk_a"), http.StatusNotFound)

	h.clock.Add(5500 * time.Millisecond) // 10 s after the last successful poll
	wantStatus(t, h.call(m, http.MethodPost, wire.PathPoll, body), http.StatusOK)
}
