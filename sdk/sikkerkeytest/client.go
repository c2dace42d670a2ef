package sikkerkeytest

import (
	"errors"

	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// Client returns an sdk.Client that signs as this machine and talks to the
// server through Server.HTTPClient (so it trusts the server's certificate
// under WithTLS). opts come after those defaults and can override them.
// The caller closes the client. Machines created by enrollment have no key
// here and give an error.
func (m *Machine) Client(opts ...sdk.Option) (*sdk.Client, error) {
	if m.key == nil {
		return nil, errors.New("sikkerkeytest: machine " + m.id + " was enrolled; its private key is held by the client")
	}
	id := sdk.Identity{MachineID: m.id, MachineName: m.name, VaultID: m.s.vaultID, APIURL: m.s.URL()}
	return sdk.NewFromKey(id, m.key, append([]sdk.Option{sdk.WithHTTPClient(m.s.HTTPClient())}, opts...)...)
}
