package cimd_test

import (
	"context"
	"slices"
	"testing"
	"time"

	cimd "github.com/cimd/cimd/bindings/go"
	"github.com/cimd/cimd/bindings/go/internal/testorigin"
)

// BenchmarkResolveCacheHit measures a Resolve that the cache answers: one call into C, no decoding. Besides
// ns/op (the mean) it reports the median and the 99th percentile of single calls, timed one by one.
//
//	scripts/netns go test -run '^$' -bench ResolveCacheHit -benchmem ./bindings/go
func BenchmarkResolveCacheHit(b *testing.B) {
	e, id := warmEngine(b)
	ctx := context.Background()
	b.Run("no-redirect-uri", func(b *testing.B) {
		benchmarkCalls(b, func() error {
			_, err := e.Resolve(ctx, id)
			return err
		})
	})
	b.Run("redirect-uri", func(b *testing.B) {
		benchmarkCalls(b, func() error {
			_, err := e.Resolve(ctx, id, cimd.WithRedirectURI("https://app.example/callback"))
			return err
		})
	})
	b.Run("deadline", func(b *testing.B) {
		deadline, cancel := context.WithTimeout(ctx, time.Hour)
		defer cancel()
		benchmarkCalls(b, func() error {
			_, err := e.Resolve(deadline, id)
			return err
		})
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := e.Resolve(ctx, id); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// warmEngine starts a local origin, resolves one client_id through a fresh engine, and returns both.
func warmEngine(b *testing.B) (*cimd.Engine, string) {
	ca := testorigin.NewCA(b)
	o := testorigin.New(b, ca)
	o.ServeDocument("/bench.json", nil)
	e := newEngine(b, testorigin.Config(ca))
	id := o.ClientID("/bench.json")
	for range 2 { // the second call is the first cache hit, which decodes nothing but records the source
		if _, err := e.Resolve(context.Background(), id); err != nil {
			b.Fatal(err)
		}
	}
	return e, id
}

// benchmarkCalls runs call b.N times, timing each call, and reports the median and p99 beside ns/op.
func benchmarkCalls(b *testing.B, call func() error) {
	b.ReportAllocs()
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := call(); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds()), "p99-ns")
}
