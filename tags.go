package sikkerkey

import (
	"strings"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// tagName is the struct tag the loader reads.
const tagName = "sikkerkey"

// tag is a parsed `sikkerkey:"<id>[,field=<name>][,optional][,default=<value>]"`.
type tag struct {
	id         string
	field      string
	optional   bool
	hasDefault bool
	def        string
}

// required reports whether a missing value is an error.
func (t tag) required() bool { return !t.optional && !t.hasDefault }

// parseTag parses the value of a sikkerkey tag. Options are separated by
// commas; default= takes the rest of the tag, commas included. Spaces around
// the id and the option names are ignored.
func parseTag(s string) (tag, error) {
	var t tag
	id, rest, more := strings.Cut(s, ",")
	t.id = strings.TrimSpace(id)
	switch {
	case t.id == "":
		return t, tagError("no secret id; write `sikkerkey:\"<secret-id>[,field=<name>][,optional][,default=<value>]\"`")
	case !wire.ValidSecretID(t.id):
		return t, tagError("secret id %q has characters other than A-Z, a-z, 0-9, '_' and '-'", t.id)
	}
	seen := map[string]bool{}
	for more {
		var opt string
		opt, rest, more = strings.Cut(rest, ",")
		trimmed := strings.TrimSpace(opt)
		name, value, hasValue := strings.Cut(trimmed, "=")
		name = strings.TrimSpace(name)
		if seen[name] {
			return t, tagError("option %q given twice", name)
		}
		seen[name] = true
		switch {
		case name == "optional" && !hasValue:
			t.optional = true
		case name == "field" && hasValue:
			t.field = strings.TrimSpace(value)
			if t.field == "" {
				return t, tagError("field= needs a field name")
			}
		case name == "default" && hasValue:
			// default= takes the rest of the tag, commas included, as written.
			_, def, _ := strings.Cut(opt, "=")
			if more {
				def += "," + rest
			}
			t.hasDefault, t.def, more = true, def, false
		case name == "":
			return t, tagError("empty option (stray comma)")
		default:
			// Only the option's name is quoted: what follows '=' could be a
			// value someone meant as a default.
			return t, tagError("unknown option %q; valid options are field=<name>, optional and default=<value>", name)
		}
	}
	if t.optional && t.hasDefault {
		return t, tagError("optional and default= together; default= already makes the secret optional, remove one")
	}
	return t, nil
}
