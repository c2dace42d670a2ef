package wire

import "strings"

// EnvName turns a secret or field name into an environment-variable style
// name the way the official Go SDK does (§7): upper-case with
// strings.ToUpper, replace every character outside A-Z and 0-9 with '_',
// collapse runs of '_', and trim '_' from both ends. "Database Credentials"
// becomes DATABASE_CREDENTIALS and "straße" becomes STRA_E.
func EnvName(name string) string {
	upper := strings.ToUpper(name)
	var b strings.Builder
	b.Grow(len(upper))
	pendingSep := false
	for _, r := range upper {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			if pendingSep && b.Len() > 0 {
				b.WriteByte('_')
			}
			pendingSep = false
			b.WriteRune(r)
			continue
		}
		pendingSep = true
	}
	return b.String()
}

// candidate is one NAME or NAME_FIELD entry offered by an export item.
type candidate struct {
	id, field, value string
}

// less orders candidates by (secret id, field name); the value breaks ties
// between duplicated ids a misbehaving server might send.
func (c candidate) less(o candidate) bool {
	if c.id != o.id {
		return c.id < o.id
	}
	if c.field != o.field {
		return c.field < o.field
	}
	return c.value < o.value
}

// Flatten turns export entries into NAME or NAME_FIELD keys (§7, §12e). An
// entry with non-null fieldNames whose value is a non-empty JSON object
// becomes one key per field, EnvName(name)+"_"+EnvName(field); any other
// entry becomes one key, EnvName(name), holding the raw value. When keys
// collide, the candidate whose (secret id, field name) pair sorts first
// byte-wise wins (a raw entry has the empty field name), so the result does
// not depend on response or map order.
func Flatten(items []ExportItem) map[string]string {
	best := make(map[string]candidate, len(items))
	offer := func(key string, c candidate) {
		old, ok := best[key]
		if !ok || c.less(old) {
			best[key] = c
		}
	}
	for _, it := range items {
		name := EnvName(it.Name)
		if it.FieldNames != nil {
			if fields, err := ParseFields(it.Value); err == nil && len(fields) > 0 {
				for f, v := range fields {
					offer(name+"_"+EnvName(f), candidate{it.ID, f, v})
				}
				continue
			}
		}
		offer(name, candidate{it.ID, "", it.Value})
	}
	out := make(map[string]string, len(best))
	for k, c := range best {
		out[k] = c.value
	}
	return out
}
