package sikkerkey

import (
	"encoding"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

var (
	secretType          = reflect.TypeFor[Secret]()
	durationType        = reflect.TypeFor[time.Duration]()
	timeType            = reflect.TypeFor[time.Time]()
	urlType             = reflect.TypeFor[url.URL]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	msUnmarshalerType   = reflect.TypeFor[mapstructure.Unmarshaler]()
)

// isValueType reports whether a field of type t takes one string value (as
// opposed to a struct or map that takes every field of a secret).
func isValueType(t reflect.Type) bool {
	switch {
	case t == secretType, t == durationType, t == urlType,
		reflect.PointerTo(t).Implements(textUnmarshalerType),
		reflect.PointerTo(t).Implements(msUnmarshalerType):
		return true
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Slice:
		e := t.Elem()
		return e.Kind() == reflect.Uint8 || (e.Kind() != reflect.Slice && isValueType(e))
	case reflect.Pointer:
		return t.Elem().Kind() != reflect.Pointer && isValueType(t.Elem())
	}
	return false
}

// converter turns strings into values of a field's type. Built-in
// conversions never return an error that quotes the input. With user decode
// hooks it runs go-viper/mapstructure: the user hooks first, in the order
// given (they see the raw string), then the built-in conversions as one more
// hook.
type converter struct {
	hook mapstructure.DecodeHookFunc // nil without user hooks
}

func newConverter(userHooks []mapstructure.DecodeHookFunc) *converter {
	if len(userHooks) == 0 {
		return &converter{}
	}
	hooks := append(append([]mapstructure.DecodeHookFunc{}, userHooks...), mapstructure.DecodeHookFuncValue(builtinHook))
	return &converter{hook: mapstructure.ComposeDecodeHookFunc(hooks...)}
}

// convert decodes s into a new value of type t.
func (c *converter) convert(s string, t reflect.Type) (reflect.Value, error) {
	if c.hook == nil {
		if v, ok, err := convertString(s, t); ok {
			return v, err
		}
	}
	out := reflect.New(t)
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{DecodeHook: c.hook, Result: out.Interface()})
	if err == nil {
		err = dec.Decode(s)
	}
	if err != nil {
		// mapstructure and hook errors may quote the input: keep only ours.
		if de := (*decodeError)(nil); errors.As(err, &de) {
			return reflect.Value{}, de
		}
		return reflect.Value{}, &decodeError{typ: t.String(), reason: "rejected by a decode hook, or no conversion from a string exists; implement encoding.TextUnmarshaler or add a hook with WithDecodeHook (its error text is not shown, since it may contain the value)"}
	}
	return out.Elem(), nil
}

// builtinHook is convertString as a mapstructure hook: strings become the
// target type, anything else passes through.
func builtinHook(from, to reflect.Value) (any, error) {
	if from.Kind() != reflect.String || from.Type() == to.Type() || to.Kind() == reflect.Pointer {
		return from.Interface(), nil
	}
	v, ok, err := convertString(from.String(), to.Type())
	if !ok {
		return from.Interface(), nil
	}
	if err != nil {
		return nil, err
	}
	return v.Interface(), nil
}

// convertString decodes s into a value of type t. ok is false for types it
// does not know (left to mapstructure and user hooks).
func convertString(s string, t reflect.Type) (v reflect.Value, ok bool, err error) {
	switch {
	case t == secretType:
		return reflect.ValueOf(Secret(s)), true, nil
	case t == durationType:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return v, true, &decodeError{typ: "time.Duration", reason: "not a duration; write a number with a unit, such as 300ms, 5s or 1h30m"}
		}
		return reflect.ValueOf(d), true, nil
	case t == urlType:
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil {
			return v, true, &decodeError{typ: "url.URL", reason: "not a valid URL"}
		}
		return reflect.ValueOf(*u), true, nil
	case t.Kind() == reflect.Pointer:
		if t.Elem().Kind() == reflect.Pointer {
			return v, false, nil
		}
		elem, ok, err := convertString(s, t.Elem())
		if !ok || err != nil {
			return v, ok, err
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(elem)
		return p, true, nil
	case reflect.PointerTo(t).Implements(msUnmarshalerType):
		return v, false, nil
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		p := reflect.New(t)
		if err := p.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			// The unmarshaler's error text usually quotes the input.
			return v, true, &decodeError{typ: t.String(), reason: textHint(t)}
		}
		return p.Elem(), true, nil
	}
	return convertKind(s, t)
}

func textHint(t reflect.Type) string {
	if t == timeType {
		return "not an RFC 3339 time, such as 2006-01-02T15:04:05Z"
	}
	return fmt.Sprintf("rejected by (*%s).UnmarshalText (its error text is not shown, since it may contain the value)", t)
}

// convertKind decodes s by the kind of t, so named types (type Port uint16)
// work too.
func convertKind(s string, t reflect.Type) (reflect.Value, bool, error) {
	v := reflect.New(t).Elem()
	trimmed := strings.TrimSpace(s)
	switch t.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(trimmed)
		if err != nil {
			return v, true, &decodeError{typ: t.String(), reason: "not a boolean; write true or false (or 1, 0, t, f)"}
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(trimmed, 10, t.Bits())
		if err != nil {
			return v, true, numberError(t, err, "a base-10 integer")
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(trimmed, 10, t.Bits())
		if err != nil {
			return v, true, numberError(t, err, "a non-negative base-10 integer")
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(trimmed, t.Bits())
		if err != nil {
			return v, true, numberError(t, err, "a decimal number")
		}
		v.SetFloat(f)
	case reflect.Complex64, reflect.Complex128:
		c, err := strconv.ParseComplex(trimmed, t.Bits())
		if err != nil {
			return v, true, numberError(t, err, "a complex number such as 1+2i")
		}
		v.SetComplex(c)
	case reflect.Slice:
		return convertSlice(s, t)
	default:
		return v, false, nil
	}
	return v, true, nil
}

// numberError keeps strconv's sentinel (ErrRange, ErrSyntax) but not its
// *NumError, whose text quotes the input.
func numberError(t reflect.Type, err error, form string) error {
	var sentinel error = strconv.ErrSyntax
	reason := "not " + form
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		sentinel = strconv.ErrRange
		reason = "out of range for " + t.String()
	}
	return &decodeError{typ: t.String(), reason: reason, cause: sentinel}
}

// convertSlice decodes []byte as the raw bytes of s, and other slices as a
// comma-separated list whose items are trimmed of spaces ("" is empty).
func convertSlice(s string, t reflect.Type) (reflect.Value, bool, error) {
	if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(textUnmarshalerType) {
		return reflect.ValueOf([]byte(s)).Convert(t), true, nil
	}
	if strings.TrimSpace(s) == "" {
		return reflect.MakeSlice(t, 0, 0), true, nil
	}
	parts := strings.Split(s, ",")
	out := reflect.MakeSlice(t, len(parts), len(parts))
	for i, part := range parts {
		item, ok, err := convertString(strings.TrimSpace(part), t.Elem())
		if !ok {
			return reflect.Value{}, false, nil
		}
		if err != nil {
			de := *err.(*decodeError)
			de.typ = t.String()
			de.reason = fmt.Sprintf("item %d of the comma-separated list: %s", i+1, de.reason)
			return reflect.Value{}, true, &de
		}
		out.Index(i).Set(item)
	}
	return out, true, nil
}
