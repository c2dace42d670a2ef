package sikkerkey

import (
	"fmt"
	"io"
	"log/slog"
)

// Redacted is what a Secret prints as, whatever the format.
const Redacted = "[REDACTED]"

// Secret holds a secret value that must not leak into logs, errors or
// dumps. Every way of printing it gives [REDACTED]: String, GoString,
// fmt with any verb and flag (%v, %+v, %#v, %s, %q, %x, ...), JSON and
// text marshalling, and slog. Reveal returns the real value, so the places
// that use it are explicit and easy to find.
//
//	type Config struct {
//		APIKey sikkerkey.Secret `sikkerkey:"sk_api_key"`
//	}
//	fmt.Printf("%+v\n", cfg)             // {APIKey:[REDACTED]}
//	req.Header.Set("X-Api-Key", cfg.APIKey.Reveal())
//
// Limits: fmt reaches only exported fields, so keep secrets in exported
// Secret fields; %p (which go vet rejects for a non-pointer) bypasses
// Format; a verb that fmt cannot apply to a pointer inside the value
// printed (%s or %q of a configuration holding a *struct, which go vet
// rejects too) makes fmt print what the pointer points to in its error
// form, %!s(*T=&{...}), where fmt calls no method at all, so a Secret there
// shows; and encoding/json writes map keys of string kind as they are, so
// do not key maps by a Secret.
type Secret string

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String returns [REDACTED].
func (Secret) String() string { return Redacted }

// GoString returns [REDACTED], for %#v.
func (Secret) GoString() string { return Redacted }

// Format writes [REDACTED] for every verb and flag.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Redacted) }

// MarshalJSON returns the JSON string "[REDACTED]".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText returns [REDACTED], for encoders that use encoding.TextMarshaler
// (YAML, TOML, map keys, ...).
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue returns [REDACTED], so slog never records the value.
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

var (
	_ fmt.Formatter  = Secret("")
	_ fmt.Stringer   = Secret("")
	_ fmt.GoStringer = Secret("")
	_ slog.LogValuer = Secret("")
)
