package sikkerkeytest_test

import (
	"context"
	"crypto/ed25519"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

func TestWithListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := sikkerkeytest.NewServer(sikkerkeytest.WithListener(l))
	defer srv.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if want := "http://" + l.Addr().String(); srv.URL() != want {
		t.Fatalf("URL %q, want %q", srv.URL(), want)
	}
	if want := "http://localhost:" + strconv.Itoa(port); srv.IdentityURL() != want {
		t.Fatalf("IdentityURL %q, want %q", srv.IdentityURL(), want)
	}

	srv.PutSecret("sk_a", "A", "", "on-my-listener")
	m := srv.AddMachine("m")
	home := t.TempDir()
	path, err := m.WriteIdentity(home)
	if err != nil {
		t.Fatal(err)
	}
	// A client that only knows the identity file (http://localhost:<port>).
	client, err := sdk.New(path, sdk.WithRetryBackoff())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if v, err := client.GetSecret(context.Background(), "sk_a"); err != nil || v != "on-my-listener" {
		t.Fatalf("GetSecret = %q, %v", v, err)
	}

	srv.Close()
	if c, err := net.DialTimeout("tcp", l.Addr().String(), time.Second); err == nil {
		_ = c.Close()
		t.Fatal("the listener is still open after Close")
	}
}

// unixAddrListener is a listener that claims a non-TCP address.
type unixAddrListener struct{ net.Listener }

func (unixAddrListener) Addr() net.Addr { return &net.UnixAddr{Name: "/tmp/x", Net: "unix"} }

func TestWithListenerNotTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	defer func() {
		if recover() == nil {
			t.Fatal("WithListener with a non-TCP listener did not panic")
		}
	}()
	sikkerkeytest.NewServer(sikkerkeytest.WithListener(unixAddrListener{l})).Close()
}

func TestAddMachineWithID(t *testing.T) {
	h := newHarness(t, sikkerkeytest.WithVaultID("vault_fixed"))
	const id = "5b2f9a9e-3c4d-4e5f-8a7b-0c1d2e3f4a5b"
	m := h.srv.AddMachineWithID(id, "dev", vectorKey())
	if m.ID() != id || m.Name() != "dev" || !m.PrivateKey().Equal(vectorKey()) {
		t.Fatalf("machine %q %q", m.ID(), m.Name())
	}
	if h.srv.Machine(id) != m {
		t.Fatal("Machine(id) does not find it")
	}
	h.srv.PutSecret("sk_a", "A", "", "v1")
	wantStatus(t, h.get(m, "sk_a"), http.StatusOK)

	// The identity written for it names the id, and a client reading that
	// identity with another server's machine of the same id and key works.
	path, err := m.WriteIdentity(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ident, key, err := sdk.LoadIdentity(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ident.MachineID != id || !key.Equal(vectorKey()) {
		t.Fatalf("identity %+v", ident)
	}
	h.srv.Close()

	h2 := newHarness(t, sikkerkeytest.WithVaultID("vault_fixed"))
	m2 := h2.srv.AddMachineWithID(ident.MachineID, ident.MachineName, key)
	h2.srv.PutSecret("sk_a", "A", "", "v2")
	if _, err := m2.WriteIdentity(filepath.Dir(filepath.Dir(filepath.Dir(path)))); err != nil {
		t.Fatal(err)
	}
	client, err := sdk.New(path, sdk.WithRetryBackoff())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if v, err := client.GetSecret(context.Background(), "sk_a"); err != nil || v != "v2" {
		t.Fatalf("GetSecret after restart = %q, %v", v, err)
	}

	// A nil key is a fresh one.
	fresh := h2.srv.AddMachineWithID("other", "o", nil)
	if len(fresh.PrivateKey()) != ed25519.PrivateKeySize || fresh.PrivateKey().Equal(vectorKey()) {
		t.Fatal("nil key did not give a fresh key")
	}
	wantStatus(t, h2.get(fresh, "sk_a"), http.StatusOK)
}

func TestAddMachineWithIDPanics(t *testing.T) {
	h := newHarness(t)
	h.srv.AddMachineWithID("taken", "t", nil)
	for name, f := range map[string]func(){
		"empty id":   func() { h.srv.AddMachineWithID("", "x", nil) },
		"bad id":     func() { h.srv.AddMachineWithID("a/b", "x", nil) },
		"space":      func() { h.srv.AddMachineWithID("a b", "x", nil) },
		"duplicate":  func() { h.srv.AddMachineWithID("taken", "x", nil) },
		"short key":  func() { h.srv.AddMachineWithID("k", "x", make([]byte, 32)) },
		"empty key":  func() { h.srv.AddMachineWithID("k2", "x", ed25519.PrivateKey{}) },
		"random dup": func() { h.srv.AddMachineWithID(h.srv.AddMachine("r").ID(), "x", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
	if h.srv.Machine("taken").Name() != "t" {
		t.Fatal("a failed AddMachineWithID replaced a machine")
	}
}
