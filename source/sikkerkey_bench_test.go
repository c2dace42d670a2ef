package source

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// BenchmarkSikkerKeyStrategy compares one export round trip with
// bounded-parallel single reads, for a cold client (new connections and TLS
// handshakes every time) against a server 2 ms away. It is what the export
// threshold of the SikkerKey source is chosen from. "sequential" is the
// official SDKs' pattern, one read after another, for comparison.
func BenchmarkSikkerKeyStrategy(b *testing.B) {
	srv := sikkerkeytest.NewServer(sikkerkeytest.WithTLS(), sikkerkeytest.WithLatency(2*time.Millisecond))
	defer srv.Close()
	m := srv.AddMachine("bench")
	var all []Request
	for i := range 50 {
		id := fmt.Sprintf("sk_bench_%02d", i)
		srv.PutSecret(id, id, "", "value")
		all = append(all, Request{ID: id})
	}
	for _, n := range []int{1, 2, 4, 8, 16, 50} {
		for _, strategy := range []string{"sequential", "get", "export"} {
			b.Run(fmt.Sprintf("n=%d/%s", n, strategy), func(b *testing.B) {
				srv.ResetRequests()
				for b.Loop() {
					c, done := coldClient(b, srv, m)
					s := SikkerKey(c).(*sikkerKeySource)
					s.exportAbove = map[string]int{"sequential": 1 << 30, "get": 1 << 30, "export": 0}[strategy]
					if strategy == "sequential" {
						s.parallel = 1
					}
					vals, err := s.Lookup(context.Background(), all[:n])
					if err != nil || len(vals) != n {
						b.Fatal(err, len(vals))
					}
					done()
				}
				gets, exports, _ := countRequests(srv)
				b.ReportMetric(float64(gets+exports)/float64(b.N), "req/op")
			})
		}
	}
}

// BenchmarkSikkerKeyStrategyWarm is the reload case: a warm client (its
// connections open) and a machine granted 500 secrets, so that an export
// carries every one of them.
func BenchmarkSikkerKeyStrategyWarm(b *testing.B) {
	srv := sikkerkeytest.NewServer(sikkerkeytest.WithTLS(), sikkerkeytest.WithLatency(2*time.Millisecond))
	defer srv.Close()
	m := srv.AddMachine("bench")
	var all []Request
	for i := range 500 {
		id := fmt.Sprintf("sk_bench_%03d", i)
		srv.PutSecret(id, id, "", fmt.Sprintf("%0200d", i))
		all = append(all, Request{ID: id})
	}
	c, done := coldClient(b, srv, m)
	defer done()
	for _, n := range []int{1, 2, 4, 8} {
		for _, strategy := range []string{"get", "export"} {
			b.Run(fmt.Sprintf("n=%d/%s", n, strategy), func(b *testing.B) {
				s := SikkerKey(c).(*sikkerKeySource)
				s.exportAbove = map[string]int{"get": 1 << 30, "export": 0}[strategy]
				for b.Loop() {
					if _, err := s.Lookup(context.Background(), all[:n]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
