// Package sikkerkeytest runs an in-process, strict, SikkerKey-compatible
// machine API server for tests and local development, in the spirit of
// net/http/httptest.
//
// A test sets up machines and secrets, points a client at the server and
// checks what happened:
//
//	srv := sikkerkeytest.NewServer()
//	defer srv.Close()
//	m := srv.AddMachine("ci")
//	srv.PutSecret("sk_api_key", "API Key", "prj_web", "k-123")
//
//	client, err := m.Client() // an *sdk.Client signing as the machine
//	// ... client.GetSecret(ctx, "sk_api_key") returns "k-123".
//
// For official SikkerKey SDKs and the CLI, Machine.WriteIdentity writes
// identity.json and private.pem under a SIKKERKEY_HOME of your choice.
// WithListener (a fixed port) and Server.AddMachineWithID (a machine id and
// key kept on disk) let a long-running server such as
// cmd/sikkerkey-devserver keep the same identity across restarts.
//
// # Strictness
//
// The server follows the wire protocol exactly, so that a client which
// works against it works against SikkerKey:
//
//   - Responses carry exactly the documented JSON keys (strict clients such
//     as the Kotlin SDK reject any other), and every error body is exactly
//     {"error": "..."}. It never redirects.
//   - Every machine route checks the Ed25519 signature over the raw request
//     path and the raw body bytes received, X-Timestamp within ±300 s of the
//     server clock (bounds included, whole seconds), and a nonce the
//     machine has not used before (nonces are kept per machine for at least
//     10 minutes of server clock). A query string on a signed route, an
//     unknown, removed or expired machine, or a bad signature is 401; a
//     disabled machine is 403; a secret the machine may not read is 403; a
//     missing secret is 404. Paths are matched as sent: an unknown path is
//     404 and a wrong method 405, each with an error body.
//   - A request body must be JSON with Content-Type application/json
//     (charset=utf-8 allowed), else 415; malformed JSON is 400; bodies over
//     1 MiB are 413. Unknown request keys are ignored (so is the CLI's
//     applicationId export filter: there are no applications here).
//   - POST /v1/secrets/list needs a non-empty projectId (else 400); an
//     export with no body, {} or {"projectId": ""} exports everything.
//
// # Polling
//
// POST /v1/secrets/poll follows the project's baseline rule (protocol
// §12h): per machine and secret the server records the version last given
// to that machine by a read (GET /v1/secret/{id}), an export containing it,
// or a poll. A poll reports "changed" when the current version differs,
// then records it, so each change is reported once; a secret never read or
// polled is recorded silently on its first poll. Lists are not reads. A
// watched id naming no secret (deleted, or never created) is reported
// "deleted" once; a secret the machine may not read (Revoke) is reported
// "access_denied" once per revocation, after which access coming back is
// recorded silently. A watch list with an id that is not a valid secret
// id is 400.
//
// # Faults
//
// Seal, FailNext, FailNextWithRetryAfter, DelayNext, DropNext, SetLatency,
// WithPollMinInterval and a settable clock (WithClock, SetClock) simulate
// outages, rate limits, slow networks, dropped connections, clock skew and
// expiry. Requests reports the requests received, in arrival order.
//
// # Programmer errors
//
// Like httptest, the package panics on input that can only be a bug in the
// test: an invalid vault id (WithVaultID), a listener that is not TCP
// (WithListener), an invalid secret id given to PutSecret or PutFields, a
// key of the wrong size given to AddMachineWithKey or AddMachineWithID, an
// invalid or already registered id given to AddMachineWithID, or an
// injected status outside 200-599. Operations on
// something that does not exist (Rotate, Delete, Grant, Revoke) do nothing
// and report false instead.
package sikkerkeytest
