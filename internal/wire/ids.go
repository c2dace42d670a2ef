package wire

// ValidSecretID reports whether id is a safe secret id: non-empty and made
// only of A-Z, a-z, 0-9, '_' and '-' (§12b). Ids go into request paths and
// cache file names unescaped, so every id is checked before it is used.
func ValidSecretID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
