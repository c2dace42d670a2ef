package sikkerkeytest

import (
	"strconv"
	"testing"
)

func TestNoncePruning(t *testing.T) {
	m := &Machine{nonces: make(map[string]int64)}
	const now = 1_000_000
	// Old nonces, forgettable after now-1.
	for i := range minPrune {
		if !m.useNonce("old"+strconv.Itoa(i), now-1, now-700) {
			t.Fatal("fresh nonce rejected")
		}
	}
	// A recent one, still within its retention.
	if !m.useNonce("recent", now+600, now) {
		t.Fatal("fresh nonce rejected")
	}
	if len(m.nonces) != 1 {
		t.Fatalf("after pruning: %d nonces", len(m.nonces))
	}
	if m.useNonce("recent", now+600, now) {
		t.Fatal("replay of a retained nonce accepted")
	}
	if _, ok := m.nonces["old0"]; ok {
		t.Fatal("expired nonce kept")
	}
}
