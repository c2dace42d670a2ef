// Package guard holds the two pieces of run-time plumbing that the sdk
// watcher and the loader's Watcher share for running user callbacks safely.
package guard

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
)

// GoroutineID returns the id of the calling goroutine. It is used only to
// let Close tell whether it runs inside a callback, whose goroutine it must
// not wait for; nothing else depends on goroutine identity.
func GoroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// DescribePanic names a recovered panic value without printing it: a
// callback that panics with a message built from a secret must not put the
// secret into an error or a log record.
func DescribePanic(r any) string {
	return fmt.Sprintf("panic with a value of type %T (value not shown: it may hold a secret)", r)
}
