package sikkerkey

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
	"github.com/sikkerkey-go/sikkerkey/source"
)

// bench50 has 50 fields over 50 secrets, of five kinds.
type bench50 struct {
	F00 string        `sikkerkey:"sk_bench_00"`
	F01 Secret        `sikkerkey:"sk_bench_01"`
	F02 int           `sikkerkey:"sk_bench_02"`
	F03 bool          `sikkerkey:"sk_bench_03"`
	F04 time.Duration `sikkerkey:"sk_bench_04"`
	F05 string        `sikkerkey:"sk_bench_05"`
	F06 Secret        `sikkerkey:"sk_bench_06"`
	F07 int           `sikkerkey:"sk_bench_07"`
	F08 bool          `sikkerkey:"sk_bench_08"`
	F09 time.Duration `sikkerkey:"sk_bench_09"`
	F10 string        `sikkerkey:"sk_bench_10"`
	F11 Secret        `sikkerkey:"sk_bench_11"`
	F12 int           `sikkerkey:"sk_bench_12"`
	F13 bool          `sikkerkey:"sk_bench_13"`
	F14 time.Duration `sikkerkey:"sk_bench_14"`
	F15 string        `sikkerkey:"sk_bench_15"`
	F16 Secret        `sikkerkey:"sk_bench_16"`
	F17 int           `sikkerkey:"sk_bench_17"`
	F18 bool          `sikkerkey:"sk_bench_18"`
	F19 time.Duration `sikkerkey:"sk_bench_19"`
	F20 string        `sikkerkey:"sk_bench_20"`
	F21 Secret        `sikkerkey:"sk_bench_21"`
	F22 int           `sikkerkey:"sk_bench_22"`
	F23 bool          `sikkerkey:"sk_bench_23"`
	F24 time.Duration `sikkerkey:"sk_bench_24"`
	F25 string        `sikkerkey:"sk_bench_25"`
	F26 Secret        `sikkerkey:"sk_bench_26"`
	F27 int           `sikkerkey:"sk_bench_27"`
	F28 bool          `sikkerkey:"sk_bench_28"`
	F29 time.Duration `sikkerkey:"sk_bench_29"`
	F30 string        `sikkerkey:"sk_bench_30"`
	F31 Secret        `sikkerkey:"sk_bench_31"`
	F32 int           `sikkerkey:"sk_bench_32"`
	F33 bool          `sikkerkey:"sk_bench_33"`
	F34 time.Duration `sikkerkey:"sk_bench_34"`
	F35 string        `sikkerkey:"sk_bench_35"`
	F36 Secret        `sikkerkey:"sk_bench_36"`
	F37 int           `sikkerkey:"sk_bench_37"`
	F38 bool          `sikkerkey:"sk_bench_38"`
	F39 time.Duration `sikkerkey:"sk_bench_39"`
	F40 string        `sikkerkey:"sk_bench_40"`
	F41 Secret        `sikkerkey:"sk_bench_41"`
	F42 int           `sikkerkey:"sk_bench_42"`
	F43 bool          `sikkerkey:"sk_bench_43"`
	F44 time.Duration `sikkerkey:"sk_bench_44"`
	F45 string        `sikkerkey:"sk_bench_45"`
	F46 Secret        `sikkerkey:"sk_bench_46"`
	F47 int           `sikkerkey:"sk_bench_47"`
	F48 bool          `sikkerkey:"sk_bench_48"`
	F49 time.Duration `sikkerkey:"sk_bench_49"`
}

// bench50Values returns the values of bench50's secrets.
func bench50Values() map[string]string {
	values := make(map[string]string, 50)
	kinds := []string{"v", "s3cret", "5432", "true", "1m30s"}
	for i := range 50 {
		values[fmt.Sprintf("sk_bench_%02d", i)] = kinds[i%5]
	}
	return values
}

// BenchmarkLoadMap measures the pure decoding cost of Load: 50 fields over
// 50 secrets from an in-memory source.
func BenchmarkLoadMap(b *testing.B) {
	src := WithSources(source.Map(bench50Values()))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var cfg bench50
		if err := Load(ctx, &cfg, src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadSikkerKey measures a cold Load (new client, new TLS
// connections) of 50 fields over 50 secrets from a server 2 ms away.
func BenchmarkLoadSikkerKey(b *testing.B) {
	srv := newServer(b, sikkerkeytest.WithTLS(), sikkerkeytest.WithLatency(2*time.Millisecond))
	m := srv.AddMachine("bench")
	for id, v := range bench50Values() {
		srv.PutSecret(id, id, "", v)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, done := coldClient(b, srv, m)
		var cfg bench50
		if err := Load(ctx, &cfg, WithClient(c)); err != nil {
			b.Fatal(err)
		}
		done()
	}
	gets, exports, _ := countRequests(srv)
	b.ReportMetric(float64(gets+exports)/float64(b.N), "req/op")
}

// BenchmarkLoadMapWithHook is BenchmarkLoadMap with a user decode hook,
// which routes every field through go-viper/mapstructure.
func BenchmarkLoadMapWithHook(b *testing.B) {
	hook := WithDecodeHook(func(from, to reflect.Type, data any) (any, error) { return data, nil })
	src := WithSources(source.Map(bench50Values()))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var cfg bench50
		if err := Load(ctx, &cfg, src, hook); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCurrent reads the current config from parallel goroutines.
func BenchmarkCurrent(b *testing.B) {
	w, err := Watch[bench50](context.Background(), WithSources(source.Map(bench50Values())))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if w.Current() == nil {
				b.Fatal("nil config")
			}
		}
	})
}

// BenchmarkReloadAfterRotation measures one reload of a 50-secret config
// after one rotation, against a server 2 ms away over TLS with a warm
// client: one poll, one read of the rotated secret, a new decode and swap.
func BenchmarkReloadAfterRotation(b *testing.B) {
	srv := newServer(b, sikkerkeytest.WithTLS(), sikkerkeytest.WithLatency(2*time.Millisecond))
	m := srv.AddMachine("bench")
	for id, v := range bench50Values() {
		srv.PutSecret(id, id, "", v)
	}
	c, done := coldClient(b, srv, m, sdk.WithMinPollInterval(time.Millisecond))
	defer done()
	w, err := Watch[bench50](context.Background(), WithClient(c), WithPollInterval(time.Hour),
		withJitter(func(n int64) int64 { return n - 1 }))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	poller := w.l.sources[0].(source.Poller)
	srv.ResetRequests()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		srv.Rotate("sk_bench_00", fmt.Sprint("v", i))
		if err := w.pollOnce(w.ctx, 0, poller); err != nil {
			b.Fatal(err)
		}
		if w.Current().F00 != fmt.Sprint("v", i) {
			b.Fatal("not reloaded")
		}
	}
	gets, exports, polls := countRequests(srv)
	b.ReportMetric(float64(gets+exports+polls)/float64(b.N), "req/op")
}
