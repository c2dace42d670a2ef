package wire

import (
	"encoding/json"
	"strings"
)

// SplitFieldNames turns the opaque fieldNames text of a list entry into
// names (§12f). nil (JSON null) means "not structured" and gives nil; any
// other text means structured and gives a non-nil slice, possibly empty.
// Text whose first non-space character is '[' is read as a JSON array of
// strings (empty if that fails); other text is split on ',' with names
// trimmed of spaces and empty items dropped.
func SplitFieldNames(text *string) []string {
	if text == nil {
		return nil
	}
	t := strings.TrimSpace(*text)
	if strings.HasPrefix(t, "[") {
		var names []string
		if err := json.Unmarshal([]byte(t), &names); err != nil || names == nil {
			return []string{}
		}
		return names
	}
	names := []string{}
	for _, part := range strings.Split(t, ",") {
		if part = strings.TrimSpace(part); part != "" {
			names = append(names, part)
		}
	}
	return names
}
