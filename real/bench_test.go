package real_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
	"github.com/stampsim/stampsim/real/redistest"
)

// benchDriver returns a driver on its own client of srv.
func benchDriver(b *testing.B, srv *redistest.Server, opt real.Options) (*real.Driver, *redis.Client) {
	b.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	b.Cleanup(func() { c.Close() })
	opt.Clients = map[locks.Scope]redis.UniversalClient{locks.ScopeRegion: c}
	d, err := real.New(opt)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if err := d.LoadScripts(context.Background()); err != nil {
		b.Fatal(err)
	}
	return d, c
}

// published waits until d's first publish has finished.
func published(b *testing.B, d *real.Driver) {
	deadline := time.Now().Add(5 * time.Second)
	for d.Stats().Store[locks.ScopeRegion][locks.OpPublish].Ops == 0 {
		if time.Now().After(deadline) {
			b.Fatal("the value was not published within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// pingNs measures the raw round trip on c, the floor under every Do.
func pingNs(b *testing.B, c *redis.Client) float64 {
	const n = 2000
	ctx := context.Background()
	t0 := time.Now()
	for range n {
		if err := c.Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
	}
	return float64(time.Since(t0).Nanoseconds()) / n
}

// BenchmarkDo measures one Do against redis-server on loopback, for each
// way a request can be served without waiting, beside a raw PING on the same
// kind of connection measured in the same run.
func BenchmarkDo(b *testing.B) {
	srv := redistest.StartT(b)
	ctx := context.Background()
	value := func(context.Context) ([]byte, error) { return []byte("value"), nil }
	topo, err := real.Topology("two-level")
	if err != nil {
		b.Fatal(err)
	}

	b.Run("ping", func(b *testing.B) {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
		defer c.Close()
		c.Ping(ctx)
		b.ResetTimer()
		for b.Loop() {
			if err := c.Ping(ctx).Err(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(1, "round-trips/op")
	})

	// A one-command script by SHA: the floor under a store operation.
	b.Run("evalsha-get", func(b *testing.B) {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
		defer c.Close()
		sha, err := c.ScriptLoad(ctx, "return redis.call('GET', KEYS[1])").Result()
		if err != nil {
			b.Fatal(err)
		}
		c.Set(ctx, "evalsha-get", "value", 0)
		keys := []string{"evalsha-get"}
		b.ResetTimer()
		for b.Loop() {
			if err := c.EvalSha(ctx, sha, keys).Err(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(1, "round-trips/op")
	})

	for _, tc := range []struct {
		name   string
		opt    real.Options
		prep   func(d *real.Driver, key string) // before the timer
		key    func(run string, i int) string
		served locks.Served
	}{
		{
			name: "uncontended-miss", opt: real.Options{Topology: topo},
			key: func(run string, i int) string { return fmt.Sprintf("miss-%s-%d", run, i) }, served: locks.ServedFetched,
		},
		{
			name: "shared-cache-hit", opt: real.Options{Topology: topo, NodeCacheTTL: -1, SharedCacheTTL: time.Hour},
			prep: func(d *real.Driver, key string) { d.Do(ctx, key, value); published(b, d) },
			key:  func(run string, _ int) string { return "shared-" + run }, served: locks.ServedHit,
		},
		{
			name: "node-cache-hit", opt: real.Options{Topology: topo, NodeCacheTTL: time.Hour},
			prep: func(d *real.Driver, key string) { d.Do(ctx, key, value); published(b, d) },
			key:  func(run string, _ int) string { return "node-" + run }, served: locks.ServedHit,
		},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d, c := benchDriver(b, srv, tc.opt)
			floor := pingNs(b, c)
			defer func() { b.ReportMetric((floor+pingNs(b, c))/2, "ping-ns") }()
			run := fmt.Sprint(time.Now().UnixNano()) // every run its own keys
			if tc.prep != nil {
				tc.prep(d, tc.key(run, 0))
			}
			before := d.Stats()
			i := 0
			key := tc.key(run, 0)
			b.ResetTimer()
			for b.Loop() {
				if tc.served == locks.ServedFetched {
					key = tc.key(run, i)
				}
				r, err := d.Do(ctx, key, value)
				if err != nil || r.Served != tc.served {
					b.Fatalf("served %v, %v; want %v", r.Served, err, tc.served)
				}
				i++
			}
			b.StopTimer()
			d.Close() // the last publishes finish
			after := d.Stats()
			b.ReportMetric(float64(after.RoundTrips()-before.RoundTrips())/float64(i), "round-trips/op")
		})
	}
}

// BenchmarkStampede runs 10,000 callers of one key across 10 drivers (one
// region store, two-level) with an upstream that takes 200ms (long enough
// for every node to be waiting when the value comes), and reports the
// time until the last caller had its value, the 99th percentile of how long
// after the value existed (its fetch returned) callers returned, the store
// commands and round trips per caller, and the drivers' goroutines and the
// heap at the peak.
func BenchmarkStampede(b *testing.B) {
	srv := redistest.StartT(b)
	const nodes, callers = 10, 10000
	const fetchTime = 200 * time.Millisecond
	topo, err := real.Topology("two-level")
	if err != nil {
		b.Fatal(err)
	}
	ds := make([]*real.Driver, nodes)
	for i := range ds {
		ds[i], _ = benchDriver(b, srv, real.Options{Topology: topo})
	}
	var (
		lastMs, p99Ms, cmdsPerCaller, tripsPerCaller float64
		peakGoroutines, peakHeapMB, upstream         float64
	)
	iter := 0
	for b.Loop() {
		iter++
		key := fmt.Sprintf("stampede-%d-%d", time.Now().UnixNano(), iter)
		before := totals(ds)
		var valueAt atomic.Int64
		fetch := func(ctx context.Context) ([]byte, error) {
			time.Sleep(fetchTime)
			valueAt.CompareAndSwap(0, time.Now().UnixNano())
			return []byte("value"), nil
		}
		base := runtime.NumGoroutine()
		stop := make(chan struct{})
		var peakG, peakHeap uint64
		var sampler sync.WaitGroup
		sampler.Add(1)
		go func() {
			defer sampler.Done()
			sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				peakG = max(peakG, uint64(runtime.NumGoroutine()))
				metrics.Read(sample)
				peakHeap = max(peakHeap, sample[0].Value.Uint64())
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		returned := make([]int64, callers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		var failed atomic.Int64
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, err := ds[i%nodes].Do(context.Background(), key, fetch); err != nil {
					failed.Add(1)
				}
				returned[i] = time.Now().UnixNano()
			}()
		}
		t0 := time.Now()
		close(start)
		wg.Wait()
		last := time.Since(t0)
		close(stop)
		sampler.Wait()
		if failed.Load() > 0 {
			b.Fatalf("%d callers failed", failed.Load())
		}
		after := totals(ds)
		lags := make([]float64, callers)
		for i, r := range returned {
			lags[i] = float64(r-valueAt.Load()) / 1e6
		}
		slices.Sort(lags)
		lastMs += float64(last.Microseconds()) / 1e3
		p99Ms += lags[callers*99/100]
		cmdsPerCaller += float64(after.Commands()-before.Commands()) / callers
		tripsPerCaller += float64(after.RoundTrips()-before.RoundTrips()) / callers
		// The callers and the sampler are the benchmark's, the rest the drivers'.
		peakGoroutines += float64(int(peakG) - base - callers - 1)
		peakHeapMB += float64(peakHeap) / (1 << 20)
		upstream += float64(upstreamCalls(after) - upstreamCalls(before))
	}
	n := float64(iter)
	b.ReportMetric(lastMs/n, "last-return-ms")
	b.ReportMetric(p99Ms/n, "p99-after-value-ms")
	b.ReportMetric(cmdsPerCaller/n, "commands/caller")
	b.ReportMetric(tripsPerCaller/n, "round-trips/caller")
	b.ReportMetric(peakGoroutines/n, "driver-goroutines-peak")
	b.ReportMetric(peakHeapMB/n, "heap-MB-peak")
	b.ReportMetric(upstream/n, "upstream-calls")
}
