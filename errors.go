package sikkerkey

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, matched with errors.Is against what Load and Watch
// return. Errors from the sources keep their own identity too, so
// errors.Is(err, sdk.ErrAccessDenied) and errors.Is(err, sdk.ErrNotFound)
// work through a *LoadError.
var (
	// ErrMissing: a required secret, or a field of it, is in no source. A
	// missing secret also matches sdk.ErrNotFound, a missing field
	// sdk.ErrFieldNotFound.
	ErrMissing = errors.New("sikkerkey: required value missing")
	// ErrBadTag: a sikkerkey struct tag is malformed, or is on a field that
	// cannot take it.
	ErrBadTag = errors.New("sikkerkey: bad struct tag")
	// ErrDecode: a value cannot be decoded into its field's type. The error
	// names the type, never the value. Reading fields from a secret that is
	// not a JSON object also matches sdk.ErrSecretStructure.
	ErrDecode = errors.New("sikkerkey: cannot decode value")
)

// FieldError is the failure of one configuration field. It never contains
// a secret value.
type FieldError struct {
	// Path is the Go path of the field, such as "DB.Password" or
	// "Extra[host]".
	Path string
	// Secret is the secret id of the field's tag ("" for a tag without one).
	Secret string
	// Field is the field of a structured secret ("" for the whole value).
	Field string
	// Source names the source that supplied or failed to supply the value
	// ("" when no source had it).
	Source string
	// Err is the cause.
	Err error
}

// Error describes the field and the cause.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Secret != "" || e.Source != "" {
		b.WriteString(" (")
		sep := ""
		if e.Secret != "" {
			b.WriteString("secret " + e.Secret)
			sep = ", "
		}
		if e.Field != "" {
			b.WriteString(sep + "field " + e.Field)
			sep = ", "
		}
		if e.Source != "" {
			b.WriteString(sep + "from " + e.Source)
		}
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *FieldError) Unwrap() error { return e.Err }

// LoadError lists every field that failed to load, all at once: missing
// secrets, values that do not decode, bad tags, source failures. Use
// errors.As to get it, errors.Is to test for a cause. It never contains a
// secret value.
type LoadError struct {
	// Type is the Go type of the configuration, such as "main.Config".
	Type string
	// Fields are the failing fields, in struct order.
	Fields []*FieldError
}

// Error lists the failing fields, one per line.
func (e *LoadError) Error() string {
	var b strings.Builder
	n := len(e.Fields)
	fmt.Fprintf(&b, "sikkerkey: cannot load %s: %d field", e.Type, n)
	if n != 1 {
		b.WriteString("s")
	}
	b.WriteString(" failed")
	for _, f := range e.Fields {
		b.WriteString("\n\t")
		b.WriteString(f.Error())
	}
	return b.String()
}

// Unwrap returns the field errors, for errors.Is and errors.As.
func (e *LoadError) Unwrap() []error {
	errs := make([]error, len(e.Fields))
	for i, f := range e.Fields {
		errs[i] = f
	}
	return errs
}

// decodeError is a value-free decoding failure: it names the target type
// and the expected form. Causes from parsers are never kept, since their
// text echoes the input; only sentinel errors such as strconv.ErrRange are.
type decodeError struct {
	typ    string
	reason string
	cause  error // a sentinel, or nil
}

func (e *decodeError) Error() string {
	return "cannot decode the value as " + e.typ + ": " + e.reason
}

func (e *decodeError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrDecode}
	}
	return []error{ErrDecode, e.cause}
}

// causeError has a message of its own and matches the errors it wraps,
// whose own texts it does not repeat.
type causeError struct {
	msg  string
	errs []error
}

func (e *causeError) Error() string   { return e.msg }
func (e *causeError) Unwrap() []error { return e.errs }

// newError returns an error with message msg that matches errs.
func newError(msg string, errs ...error) error { return &causeError{msg: msg, errs: errs} }

// tagError is a malformed tag.
func tagError(format string, args ...any) error {
	return newError("bad tag: "+fmt.Sprintf(format, args...), ErrBadTag)
}
