// Package wire holds the parts of the SikkerKey machine protocol that both
// sides of a connection must agree on byte for byte: the request-signing
// payload, secret-id validation, the base-URL (HTTPS) rule, the JSON shapes
// of every request and response, the conversion of structured secret values
// to strings, field-name parsing, and export flattening.
//
// The client (package sdk), the test server (package sdk/sikkerkeytest) and
// the loader's environment source all use this one implementation, so they
// cannot drift apart. Section numbers in comments refer to the project's
// protocol document (protocol.md).
package wire
