package guard

import (
	"errors"
	"strings"
	"testing"
)

func TestGoroutineID(t *testing.T) {
	t.Parallel()
	here := GoroutineID()
	if here == 0 {
		t.Fatal("no id")
	}
	other := make(chan uint64)
	go func() { other <- GoroutineID() }()
	if o := <-other; o == 0 || o == here {
		t.Fatalf("ids %d and %d", here, o)
	}
	if GoroutineID() != here {
		t.Fatal("id changed")
	}
}

func TestDescribePanicHidesValue(t *testing.T) {
	t.Parallel()
	for _, r := range []any{"hunter2", errors.New("hunter2"), []byte("hunter2"), 42} {
		d := DescribePanic(r)
		if strings.Contains(d, "hunter2") || strings.Contains(d, "42") {
			t.Fatalf("%q", d)
		}
	}
}
