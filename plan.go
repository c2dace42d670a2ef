package sikkerkey

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/sikkerkey-go/sikkerkey/source"
)

// A plan is what the loader knows about a configuration type: every tagged
// field, how to reach it, and which secrets to fetch. It is built once per
// type and cached.
type plan struct {
	typeName string
	bindings []*binding // in struct order; malformed tags included (err set)
	reqs     []source.Request
	ids      []string
	slots    int // pointers that a load may have to copy before writing
}

// step is one field on the way from the root struct to a target. ptr >= 0
// means the field is a pointer to a struct that the path goes through: a
// load allocates it, or copies its target once (slot ptr) so that the
// caller's value is never written to.
type step struct {
	index int
	ptr   int
}

type bindKind uint8

const (
	bindValue  bindKind = iota // one value: the raw secret or one field
	bindStruct                 // a struct receiving the secret's fields by name
	bindMap                    // a map receiving every field
)

// binding is one tagged field.
type binding struct {
	path    string
	steps   []step
	tag     tag
	kind    bindKind
	typ     reflect.Type
	members []member // bindStruct: the fields filled by name
	err     error    // a malformed tag, reported by every load
}

// member is a field of a struct tagged with a secret id alone.
type member struct {
	path     string
	steps    []step // from the tagged struct
	typ      reflect.Type
	key      string // normalised name, for matching secret fields
	snake    string // the field name asked of sources (Env)
	optional bool   // a pointer: left nil when the secret has no such field
	depth    int
}

var plans sync.Map // reflect.Type -> *plan

// planFor returns the cached plan of struct type t.
func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p, _ := plans.LoadOrStore(t, buildPlan(t))
	return p.(*plan)
}

type planner struct {
	p     *plan
	stack map[reflect.Type]bool // struct types being walked, against pointer cycles
}

func buildPlan(t reflect.Type) *plan {
	p := &plan{typeName: t.String()}
	w := &planner{p: p, stack: map[reflect.Type]bool{}}
	w.walk(t, nil, "")

	fields := map[string]map[string]bool{}
	for _, b := range p.bindings {
		if b.err != nil {
			continue
		}
		set := fields[b.tag.id]
		if set == nil {
			set = map[string]bool{}
			fields[b.tag.id] = set
		}
		if b.tag.field != "" {
			set[b.tag.field] = true
		}
		for _, m := range b.members {
			set[m.snake] = true
		}
	}
	for id, set := range fields {
		var names []string
		for f := range set {
			names = append(names, f)
		}
		slices.Sort(names)
		p.reqs = append(p.reqs, source.Request{ID: id, Fields: names})
	}
	slices.SortFunc(p.reqs, func(a, b source.Request) int { return cmp.Compare(a.ID, b.ID) })
	for _, r := range p.reqs {
		p.ids = append(p.ids, r.ID)
	}
	return p
}

func (w *planner) slot() int {
	w.p.slots++
	return w.p.slots - 1
}

func (w *planner) fail(path, id string, err error) {
	w.p.bindings = append(w.p.bindings, &binding{path: path, tag: tag{id: id}, err: err})
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func with(steps []step, s step) []step {
	return append(slices.Clip(steps), s)
}

// structTarget returns the struct type behind t (a struct or a pointer to
// one) when it is walked or filled by name rather than decoded as a value.
func structTarget(t reflect.Type) (reflect.Type, bool) {
	if isValueType(t) {
		return nil, false
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t, t.Kind() == reflect.Struct && !isValueType(t)
}

// walk visits the fields of struct type t, reached through steps.
func (w *planner) walk(t reflect.Type, steps []step, prefix string) {
	w.stack[t] = true
	defer delete(w.stack, t)
	for i := range t.NumField() {
		f := t.Field(i)
		raw, tagged := f.Tag.Lookup(tagName)
		if raw == "-" {
			continue
		}
		path := joinPath(prefix, f.Name)
		if !f.IsExported() {
			if tagged {
				w.fail(path, "", tagError("the field is unexported; export it so the loader can set it"))
				continue
			}
			// Exported fields of an embedded unexported struct are settable;
			// those of an embedded unexported pointer are not.
			if !f.Anonymous || f.Type.Kind() == reflect.Pointer {
				continue
			}
		}
		st := with(steps, step{index: i, ptr: -1})
		if tagged {
			w.bind(f.Type, st, path, raw)
			continue
		}
		if inner, ok := structTarget(f.Type); ok && !w.stack[inner] {
			if f.Type.Kind() == reflect.Pointer {
				st[len(st)-1].ptr = w.slot()
			}
			w.walk(inner, st, path)
		}
	}
}

// bind plans a tagged field.
func (w *planner) bind(ft reflect.Type, st []step, path, raw string) {
	tg, err := parseTag(raw)
	if err != nil {
		w.fail(path, tg.id, err)
		return
	}
	b := &binding{path: path, steps: st, tag: tg, typ: ft}
	inner, isStruct := structTarget(ft)
	switch {
	case tg.field != "" || isValueType(ft):
		b.kind = bindValue
	case isStruct:
		if tg.hasDefault {
			w.fail(path, tg.id, tagError("default= needs a single value, but a struct receives every field of the secret; give defaults to fields with field= tags, or use optional"))
			return
		}
		if w.stack[inner] {
			w.fail(path, tg.id, tagError("recursive struct type %s", inner))
			return
		}
		b.kind = bindStruct
		if ft.Kind() == reflect.Pointer {
			st[len(st)-1].ptr = w.slot()
		}
		b.members = w.members(inner, nil, path, 0)
		w.p.bindings = append(w.p.bindings, b)
		// Tagged fields inside the struct are bindings of their own.
		w.walk(inner, st, path)
		return
	case isMapTarget(ft):
		if tg.hasDefault {
			w.fail(path, tg.id, tagError("default= needs a single value, but a map receives every field of the secret; use optional"))
			return
		}
		b.kind = bindMap
	default:
		w.fail(path, tg.id, tagError("a field of type %s cannot take a secret; use a string, sikkerkey.Secret, a number, bool, time.Duration, time.Time, []byte, []string, url.URL, netip.Addr, an encoding.TextUnmarshaler, a pointer to one of these, a struct or a map[string]string", ft))
		return
	}
	w.p.bindings = append(w.p.bindings, b)
}

// isMapTarget reports whether t is a map with string keys and values a
// secret field can decode into.
func isMapTarget(t reflect.Type) bool {
	return t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && isValueType(t.Elem())
}

// members lists the untagged value fields of struct t (promoted fields of
// embedded structs included), which a struct tagged with a secret id alone
// fills from the secret's fields by name.
func (w *planner) members(t reflect.Type, steps []step, prefix string, depth int) []member {
	var out []member
	for i := range t.NumField() {
		f := t.Field(i)
		if _, tagged := f.Tag.Lookup(tagName); tagged {
			continue // "-", or a binding of its own
		}
		path := joinPath(prefix, f.Name)
		st := with(steps, step{index: i, ptr: -1})
		if f.Anonymous {
			if inner, ok := structTarget(f.Type); ok && !w.stack[inner] {
				if f.Type.Kind() == reflect.Pointer {
					if !f.IsExported() {
						continue
					}
					st[len(st)-1].ptr = w.slot()
				}
				w.stack[inner] = true
				out = append(out, w.members(inner, st, path, depth+1)...)
				delete(w.stack, inner)
				continue
			}
		}
		if !f.IsExported() || !isValueType(f.Type) {
			continue
		}
		out = append(out, member{
			path:     path,
			steps:    st,
			typ:      f.Type,
			key:      normalizeName(f.Name),
			snake:    snakeCase(f.Name),
			optional: f.Type.Kind() == reflect.Pointer,
			depth:    depth,
		})
	}
	if depth > 0 {
		return out
	}
	// As in Go, a shallower field hides a deeper one of the same name.
	shallowest := map[string]int{}
	for _, m := range out {
		if d, ok := shallowest[m.key]; !ok || m.depth < d {
			shallowest[m.key] = m.depth
		}
	}
	seen := map[string]bool{}
	return slices.DeleteFunc(out, func(m member) bool {
		drop := seen[m.key] || m.depth != shallowest[m.key]
		seen[m.key] = seen[m.key] || !drop
		return drop
	})
}

// normalizeName is the key fields are matched by: lower case, without '_',
// '-', '.' and spaces, so that DBHost matches db_host, db-host and DBHOST.
func normalizeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.', ' ':
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// snakeCase turns a Go field name into the snake_case field name asked of
// sources: DBHost becomes db_host, APIKey api_key, Password password.
func snakeCase(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
