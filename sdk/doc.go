// Package sdk is a Go client for the SikkerKey machine API: it resolves a
// machine identity, signs every request with the machine's Ed25519 key, and
// reads secrets (one value, the fields of a structured secret, lists and
// exports), watches them for rotation, and retries what is safe to retry.
//
// It speaks the same wire protocol as the official SikkerKey SDKs and CLI,
// byte for byte, and adds what Go services expect: a context on every call,
// errors usable with errors.Is and errors.As, one connection pool per client,
// a bounded response size, and a watcher that never outlives Close.
//
// A minimal program:
//
//	client, err := sdk.New("") // auto-detect the identity under ~/.sikkerkey
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer client.Close()
//	password, err := client.GetField(ctx, "sk_db_prod", "password")
//
// For tests and local development, package sdk/sikkerkeytest runs a strict
// SikkerKey-compatible server in process.
package sdk
