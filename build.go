package sikkerkey

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
	"github.com/sikkerkey-go/sikkerkey/sdk"
)

// build decodes the values of snap into a new *T that starts as a copy of
// base (the zero value when base is invalid). The caller's value is never
// written: pointers on the way to a target are copied before writing.
func (l *loader) build(snap snapshot, base reflect.Value) (reflect.Value, error) {
	out := reflect.New(l.typ)
	if base.IsValid() {
		out.Elem().Set(base)
	}
	r := run{l: l, snap: snap, cloned: make([]bool, l.plan.slots)}
	for _, b := range l.plan.bindings {
		r.apply(out.Elem(), b)
	}
	if len(r.errs) > 0 {
		return reflect.Value{}, &LoadError{Type: l.plan.typeName, Fields: r.errs}
	}
	return out, nil
}

// run is one decoding pass.
type run struct {
	l      *loader
	snap   snapshot
	cloned []bool
	fields map[string]parsedFields
	errs   []*FieldError
}

type parsedFields struct {
	fields map[string]string
	byKey  map[string]string // normalised name -> field name
	err    error
}

// reach walks steps from v and returns the last field, allocating or
// copying the pointers it goes through (once per run).
func (r *run) reach(v reflect.Value, steps []step) reflect.Value {
	for _, s := range steps {
		v = v.Field(s.index)
		if s.ptr < 0 {
			continue
		}
		if !r.cloned[s.ptr] {
			p := reflect.New(v.Type().Elem())
			if !v.IsNil() {
				p.Elem().Set(v.Elem())
			}
			v.Set(p)
			r.cloned[s.ptr] = true
		}
		v = v.Elem()
	}
	return v
}

// fieldsOf returns the fields of a secret, parsing its value once per run.
func (r *run) fieldsOf(id string, res *resolved) parsedFields {
	if pf, ok := r.fields[id]; ok {
		return pf
	}
	pf := parsedFields{fields: res.val.Fields}
	if pf.fields == nil {
		f, err := wire.ParseFields(res.val.Raw)
		if err != nil {
			pf.err = newError("the secret is not structured (its value is not a JSON object), so it has no fields; read the whole value without field=, or store the secret as a JSON object", ErrDecode, sdk.ErrSecretStructure)
		}
		pf.fields = f
	}
	if r.fields == nil {
		r.fields = map[string]parsedFields{}
	}
	r.fields[id] = pf
	return pf
}

// lookupField finds a field by exact name, then by normalised name (case,
// '_', '-', '.' and spaces ignored); among several candidates the one that
// sorts first wins.
func (pf *parsedFields) lookupField(name string) (string, bool) {
	if v, ok := pf.fields[name]; ok {
		return v, true
	}
	if pf.byKey == nil {
		keys := make([]string, 0, len(pf.fields))
		for k := range pf.fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		pf.byKey = make(map[string]string, len(keys))
		for _, k := range keys {
			if _, dup := pf.byKey[normalizeName(k)]; !dup {
				pf.byKey[normalizeName(k)] = k
			}
		}
	}
	k, ok := pf.byKey[normalizeName(name)]
	if !ok {
		return "", false
	}
	return pf.fields[k], true
}

// fieldNames lists the fields of a secret for error messages (names only).
func (pf *parsedFields) fieldNames() string {
	names := make([]string, 0, len(pf.fields))
	for k := range pf.fields {
		names = append(names, k)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "it has no fields"
	}
	return "it has " + strings.Join(names, ", ")
}

func (r *run) fail(path string, b *binding, field string, src int, err error) {
	r.errs = append(r.errs, &FieldError{Path: path, Secret: b.tag.id, Field: field, Source: r.l.sourceName(src), Err: err})
}

// missing explains a required secret no source has.
func (r *run) missing(res *resolved) error {
	if res != nil && res.gone != nil {
		return newError(res.gone.Error(), ErrMissing, res.gone)
	}
	tried := "no sources"
	if len(r.l.names) > 0 {
		tried = "tried " + strings.Join(r.l.names, ", ")
	}
	return newError("no source has the secret ("+tried+"); create it or grant this machine access, or tag the field optional or default=<value>", ErrMissing, sdk.ErrNotFound)
}

// apply decodes one binding into root.
func (r *run) apply(root reflect.Value, b *binding) {
	if b.err != nil {
		r.errs = append(r.errs, &FieldError{Path: b.path, Secret: b.tag.id, Err: b.err})
		return
	}
	res := r.snap[b.tag.id]
	if res != nil && res.err != nil {
		r.fail(b.path, b, b.tag.field, res.src, res.err)
		return
	}
	present := res != nil && res.src >= 0
	if !present {
		switch {
		case b.tag.hasDefault:
			r.set(root, b, b.tag.def, "default= of the tag")
		case b.tag.required():
			r.fail(b.path, b, b.tag.field, -1, r.missing(res))
		}
		return
	}
	if b.kind == bindValue && b.tag.field == "" {
		r.set(root, b, res.val.Raw, r.l.sourceName(res.src))
		return
	}
	pf := r.fieldsOf(b.tag.id, res)
	if pf.err != nil {
		r.fail(b.path, b, b.tag.field, res.src, pf.err)
		return
	}
	switch b.kind {
	case bindValue:
		v, ok := pf.lookupField(b.tag.field)
		switch {
		case ok:
			r.set(root, b, v, r.l.sourceName(res.src))
		case b.tag.hasDefault:
			r.set(root, b, b.tag.def, "default= of the tag")
		case b.tag.required():
			r.fail(b.path, b, b.tag.field, res.src, newError(fmt.Sprintf("the secret has no field %q (%s); add it to the secret, fix field=, or tag the Go field optional or default=<value>", b.tag.field, pf.fieldNames()), ErrMissing, sdk.ErrFieldNotFound))
		}
	case bindMap:
		r.setMap(root, b, res, pf)
	case bindStruct:
		r.setStruct(root, b, res, pf)
	}
}

// set decodes s into the field of a bindValue binding.
func (r *run) set(root reflect.Value, b *binding, s, from string) {
	v, err := r.l.conv.convert(s, b.typ)
	if err != nil {
		r.errs = append(r.errs, &FieldError{Path: b.path, Secret: b.tag.id, Field: b.tag.field, Source: from, Err: err})
		return
	}
	r.reach(root, b.steps).Set(v)
}

// setMap fills a map with every field of the secret.
func (r *run) setMap(root reflect.Value, b *binding, res *resolved, pf parsedFields) {
	m := reflect.MakeMapWithSize(b.typ, len(pf.fields))
	keyType, elemType := b.typ.Key(), b.typ.Elem()
	keys := make([]string, 0, len(pf.fields))
	for k := range pf.fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ok := true
	for _, k := range keys {
		v, err := r.l.conv.convert(pf.fields[k], elemType)
		if err != nil {
			r.fail(b.path+"["+k+"]", b, k, res.src, err)
			ok = false
			continue
		}
		m.SetMapIndex(reflect.ValueOf(k).Convert(keyType), v)
	}
	if ok {
		r.reach(root, b.steps).Set(m)
	}
}

// setStruct fills the untagged value fields of a struct from the secret's
// fields, matched by name.
func (r *run) setStruct(root reflect.Value, b *binding, res *resolved, pf parsedFields) {
	target := r.reach(root, b.steps)
	for _, m := range b.members {
		s, ok := pf.lookupField(m.snake)
		if !ok {
			if !m.optional {
				r.fail(m.path, b, m.snake, res.src, newError(fmt.Sprintf("the secret has no field matching %s (%s); add it to the secret, make the Go field a pointer to allow its absence, or tag it `sikkerkey:\"-\"`", m.path, pf.fieldNames()), ErrMissing, sdk.ErrFieldNotFound))
			}
			continue
		}
		v, err := r.l.conv.convert(s, m.typ)
		if err != nil {
			r.fail(m.path, b, m.snake, res.src, err)
			continue
		}
		r.reach(target, m.steps).Set(v)
	}
}
