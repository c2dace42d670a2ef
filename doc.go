// Package sikkerkey loads configuration structs from SikkerKey secrets and
// keeps them current.
//
// Tag the fields that hold secrets, then call Load:
//
//	type Config struct {
//		APIKey  sikkerkey.Secret `sikkerkey:"sk_api_key"`
//		DBPass  string           `sikkerkey:"sk_db_prod,field=password"`
//		Timeout time.Duration    `sikkerkey:"sk_tuning,field=timeout,default=5s"`
//	}
//	var cfg Config
//	err := sikkerkey.Load(ctx, &cfg)
//
// or Watch, which loads once and then swaps in a freshly decoded
// configuration whenever a secret is rotated:
//
//	w, err := sikkerkey.Watch[Config](ctx)
//	defer w.Close()
//	cfg := w.Current()
//
// # Tags
//
// The tag is `sikkerkey:"<secret-id>[,field=<name>][,optional][,default=<value>]"`:
//
//   - <secret-id> alone: the field receives the secret's value. A struct or
//     map[string]string tagged this way receives every field of a structured
//     secret (a JSON object): map keys are the field names; struct fields are
//     matched by name, ignoring case, '_' and '-' (DBHost matches db_host).
//     Every untagged value field of such a struct is required, except
//     pointers (left nil when the secret has no such field) and fields tagged
//     `sikkerkey:"-"`.
//   - field=<name>: the field receives one field of a structured secret.
//   - optional: a missing secret or field leaves the Go field as it is.
//   - default=<value>: a missing secret or field takes this value instead. It
//     takes the rest of the tag, commas included, so it comes last.
//   - `sikkerkey:"-"` skips a field.
//
// A secret is required unless the tag says optional or default=. Untagged
// structs and pointers to structs are walked (pointers are allocated only
// when something inside is set). Tags are parsed once per type; a
// malformed tag is reported by every Load, naming the Go field.
//
// # Types
//
// A field may be a string or sikkerkey.Secret, a bool, any int, uint, float
// or complex type (base 10; named types such as `type Port uint16` too),
// time.Duration ("5s"), time.Time (RFC 3339), []byte (the raw value), a
// slice of any of these but []byte (a comma-separated list, items trimmed of
// spaces), url.URL, netip.Addr, anything implementing
// encoding.TextUnmarshaler, or a pointer to one of these (allocated when
// set). WithDecodeHook adds go-viper/mapstructure hooks for other types.
//
// # Sources and precedence
//
// Values come from sources (package source): SikkerKey by default, or the
// list given to WithSources. Precedence is per secret id: the first source
// that has an id supplies the value and every field of that id. A source
// failure other than "not found" fails the load; it never falls through to
// the next source.
//
// # Hot reload
//
// Watch loads once, then publishes a new, fully decoded and validated *T
// in an atomic swap each time a source reports a change: SikkerKey is
// polled (one request per interval for all secret ids, with jitter and
// back-off), File and Dir are watched through fsnotify. Current returns the
// configuration without locking; OnChange callbacks run one at a time, in
// order, outside any lock; a change that fails to decode or validate keeps
// the current configuration and goes to OnError. Close stops everything.
//
// # Errors
//
// Load reports every failing field at once in a *LoadError: missing
// secrets, values that do not decode, malformed tags, source failures, each
// with the Go field path, the secret id and field, and the cause. It works
// with errors.Is (ErrMissing, ErrDecode, ErrBadTag, and the sdk sentinels
// such as sdk.ErrNotFound and sdk.ErrAccessDenied) and errors.As. No error
// contains a secret value: parser messages that quote their input are
// replaced by messages naming the target type. When a load fails, the
// configuration is left unchanged.
package sikkerkey
