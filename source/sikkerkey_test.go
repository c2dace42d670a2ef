package source

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

func newTestServer(t *testing.T) (*sikkerkeytest.Server, *sikkerkeytest.Machine) {
	srv := sikkerkeytest.NewServer()
	t.Cleanup(srv.Close)
	m := srv.AddMachine("app")
	srv.PutSecret("sk_a", "a", "", "A")
	srv.PutSecret("sk_b", "b", "", "B")
	srv.PutFields("sk_db", "db", "", map[string]string{"host": "h"})
	srv.PutSecret("sk_revoked", "r", "", "R")
	srv.Revoke(m.ID(), "sk_revoked")
	return srv, m
}

func TestSikkerKeyLookup(t *testing.T) {
	t.Parallel()
	srv, m := newTestServer(t)
	for _, tc := range []struct {
		name          string
		exportAbove   int
		gets, exports int
	}{
		{"reads", 100, 5, 0},
		{"export", 0, 2, 1}, // the export lacks sk_revoked and sk_missing
	} {
		c, done := coldClient(t, srv, m)
		s := SikkerKey(c).(*sikkerKeySource)
		s.exportAbove = tc.exportAbove
		srv.ResetRequests()
		got, err := s.Lookup(ctx, reqs("sk_a", "sk_b", "sk_db", "sk_revoked", "sk_missing"))
		done()
		want := map[string]Value{"sk_a": {Raw: "A"}, "sk_b": {Raw: "B"}, "sk_db": {Raw: `{"host":"h"}`}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v", tc.name, got)
		}
		var ie *IDError
		if !errors.As(err, &ie) || ie.ID != "sk_revoked" || !errors.Is(err, sdk.ErrAccessDenied) || errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("%s: want only sk_revoked denied, got %v", tc.name, err)
		}
		if gets, exports, _ := countRequests(srv); gets != tc.gets || exports != tc.exports {
			t.Errorf("%s: %d reads, %d exports", tc.name, gets, exports)
		}
	}
}

func TestSikkerKeyExportFailureFallsBack(t *testing.T) {
	t.Parallel()
	srv, m := newTestServer(t)
	c, done := coldClient(t, srv, m)
	defer done()
	s := SikkerKey(c).(*sikkerKeySource)
	s.exportAbove = 0
	srv.FailNext(500)
	got, err := s.Lookup(ctx, reqs("sk_a", "sk_b"))
	if err != nil || len(got) != 2 {
		t.Errorf("got %v %v", got, err)
	}
	if gets, exports, _ := countRequests(srv); gets != 2 || exports != 1 {
		t.Errorf("%d reads, %d exports", gets, exports)
	}
}

func TestSikkerKeyLookupCancelled(t *testing.T) {
	t.Parallel()
	srv, m := newTestServer(t)
	c, done := coldClient(t, srv, m)
	defer done()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for _, exportAbove := range []int{0, 100} {
		s := SikkerKey(c).(*sikkerKeySource)
		s.exportAbove = exportAbove
		if _, err := s.Lookup(cctx, reqs("sk_a", "sk_b", "sk_db")); !errors.Is(err, context.Canceled) {
			t.Errorf("exportAbove %d: %v", exportAbove, err)
		}
	}
}

func TestSikkerKeyPoll(t *testing.T) {
	t.Parallel()
	srv, m := newTestServer(t)
	srv.PutSecret("sk_del", "d", "", "D")
	c, done := coldClient(t, srv, m)
	defer done()
	s := SikkerKey(c)
	ids := []string{"sk_a", "sk_b", "sk_db", "sk_del"}
	if _, err := s.Lookup(ctx, reqs(ids...)); err != nil {
		t.Fatal(err)
	}
	srv.Rotate("sk_a", "A2")
	srv.RotateFields("sk_db", map[string]string{"host": "h2"})
	srv.Delete("sk_del")
	srv.Revoke(m.ID(), "sk_b")
	ch, err := s.(Poller).Poll(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ch.Changed, []string{"sk_a", "sk_db"}) || len(ch.Gone) != 2 ||
		!errors.Is(ch.Gone["sk_del"], sdk.ErrNotFound) || !errors.Is(ch.Gone["sk_b"], sdk.ErrAccessDenied) {
		t.Errorf("change %+v", ch)
	}
	if s.(interface{ MinPollInterval() time.Duration }).MinPollInterval() != sdk.MinPollInterval {
		t.Error("MinPollInterval")
	}
	srv.FailNext(429)
	if _, err := s.(Poller).Poll(ctx, ids); !errors.Is(err, sdk.ErrRateLimited) {
		t.Errorf("429: %v", err)
	}
}
