package source

import (
	"context"
	"fmt"
	"io"
	"maps"
)

// Map returns a source holding the given secret values in memory, keyed by
// secret id. A value holding a JSON object is a structured secret. The map
// is copied, so later changes to m are not seen. Map is meant for tests,
// examples and defaults computed by the program.
func Map(m map[string]string) Source {
	return mapSource(maps.Clone(m))
}

type mapSource map[string]string

// Lookup returns the values of the requested ids that the map holds.
func (m mapSource) Lookup(_ context.Context, reqs []Request) (map[string]Value, error) {
	out := make(map[string]Value, len(reqs))
	for _, r := range reqs {
		if v, ok := m[r.ID]; ok {
			out[r.ID] = Value{Raw: v}
		}
	}
	return out, nil
}

// String names the source in error messages.
func (mapSource) String() string { return "map" }

// Format prints the source as its name whatever the verb: the map holds
// secret values, which %#v (which does not use String) or a verb such as
// %d would otherwise print.
func (m mapSource) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, m.String()) }
