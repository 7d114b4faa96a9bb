package locks_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// BenchmarkBurst measures one machine (two-level: node level, then region)
// handling a burst of 10,000 requests for one key that misses: the first
// request starts the flight, which takes the region lock and calls the
// upstream; the other 9,999 collapse onto it and are answered when the call
// returns. The driver's part is reduced to answering the machine's store
// operation and upstream call in place. Each iteration is one burst, a
// virtual hour after the previous one so that the caches have expired.
//
// It reports requests handled per second of wall time and allocations per
// request, measured once the machine is warm (after two bursts).
func BenchmarkBurst(b *testing.B) {
	const burst = 10_000
	run := burstRunner(b, burst)
	// Warm: the flight, its waiter list and both effect buffers (Ready
	// swaps two) exist now.
	run(0)
	run(1)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 2; i < b.N+2; i++ {
		run(i)
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	reqs := float64(b.N) * burst
	b.ReportMetric(reqs/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/reqs, "allocs/req")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/reqs, "ns/req")
}

// burstRunner returns a function that runs the i-th burst of size requests
// for one key through one two-level machine, answering its store operations
// and its upstream call in place, and fails tb unless the burst made exactly
// one upstream call and answered every request.
func burstRunner(tb testing.TB, size int) func(i int) {
	topo, err := locks.Builtin("two-level", defaultLevel)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := locks.NewMachine[int](locks.Config{Topology: topo, NodeCacheTTL: time.Second, SharedCacheTTL: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	var fence uint64
	return func(i int) {
		t0 := at(time.Duration(i) * time.Hour)
		for j := range size {
			m.Request(t0, locks.ReqID(j+1), "k")
		}
		var ra locks.Op[int]
		for _, e := range m.Ready() {
			if e.Kind == locks.EffectStore && e.Op.Kind == locks.OpReadOrAcquire {
				ra = e.Op
			}
		}
		fence++
		m.StoreDone(t0.Add(ms), ra, locks.Result[int]{Status: locks.StatusAcquired, Fence: fence})
		var flight locks.FlightID
		fetches := 0
		for _, e := range m.Ready() {
			if e.Kind == locks.EffectFetch {
				flight = e.Fetch.Flight
				fetches++
			}
		}
		m.Fetched(t0.Add(101*ms), flight, i, nil)
		replies := 0
		var publish locks.Op[int]
		for _, e := range m.Ready() {
			switch {
			case e.Kind == locks.EffectReply:
				replies += max(1, len(e.Waiters))
			case e.Kind == locks.EffectStore && e.Op.Kind == locks.OpPublish:
				publish = e.Op
			}
		}
		m.StoreDone(t0.Add(102*ms), publish, locks.Result[int]{Status: locks.StatusOK, Written: true, Released: true})
		m.Ready()
		if fetches != 1 || replies != size || m.InFlight() != 0 {
			tb.Fatalf("burst %d: %d upstream calls, %d replies, %d flights left; want 1, %d, 0", i, fetches, replies, m.InFlight(), size)
		}
	}
}

// Once a machine has handled a burst, handling the same burst again
// allocates nothing: the flight, its waiter list and the effect buffers are
// reused, whatever the burst's size.
func TestWarmBurstDoesNotAllocate(t *testing.T) {
	for _, size := range []int{10, 1_000, 10_000} {
		run := burstRunner(t, size)
		run(0)
		run(1) // both effect buffers (Ready swaps two) have grown now
		i := 2
		if allocs := testing.AllocsPerRun(5, func() { run(i); i++ }); allocs != 0 {
			t.Errorf("burst of %d: %v allocations per warm burst, want 0", size, allocs)
		}
	}
}
