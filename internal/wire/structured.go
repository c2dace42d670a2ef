package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// ErrNotObject is returned by ParseFields for a value that is not a JSON
// object. It never carries any part of the value.
var ErrNotObject = errors.New("value is not a JSON object")

// ParseFields converts the value of a structured secret into its fields
// (§12d): a JSON string stays as it is, a number or boolean becomes its JSON
// text, null becomes "", a nested object or array becomes its compact JSON
// text. Anything but a JSON object (array, scalar, null, invalid JSON) is
// ErrNotObject. A duplicated key keeps its last value, as encoding/json does.
func ParseFields(value string) (map[string]string, error) {
	data := bytes.TrimLeft([]byte(value), " \t\r\n")
	if len(data) == 0 || data[0] != '{' {
		return nil, ErrNotObject
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, ErrNotObject
	}
	fields := make(map[string]string, len(raw))
	for k, v := range raw {
		s, err := fieldString(v)
		if err != nil {
			return nil, ErrNotObject
		}
		fields[k] = s
	}
	return fields, nil
}

func fieldString(v json.RawMessage) (string, error) {
	switch v[0] {
	case '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case 'n':
		return "", nil
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return "", err
		}
		// Like the strings encoding/json decodes, nested JSON text never
		// carries invalid UTF-8.
		return strings.ToValidUTF8(b.String(), "\uFFFD"), nil
	default: // number, true, false: the JSON text itself
		return string(v), nil
	}
}
