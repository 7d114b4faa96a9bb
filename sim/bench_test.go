package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The hold model (Jones, 1986) measures a priority queue in the steady state
// of a simulation: the queue holds N pending events, and each operation
// pops the earliest one and schedules a replacement at its time plus a
// random increment. BenchmarkEngineHold measures the whole engine doing that
// (pop, slot lookup, handler call, After); BenchmarkBareHeapHold measures
// the simplest binary heap of (time, sequence) pairs doing the same, as the
// floor the engine is held to. Both draw the identical increments from one
// pre-computed table, so random number generation is outside the comparison.
//
// What the measurements chose. CPU time per hold, engine / bare heap, medians
// of 15 interleaved runs on the 2-core AMD EPYC development VM, once quiet
// and once busy with other processes thrashing the shared cache (as a sweep
// running a simulation on every core does). Every variant sifts a binary
// heap, and the first event a handler schedules replaces the fired one at
// the root (one sift down instead of a pop and a push):
//
//	                                                    quiet          busy
//	                                                 1,000 100,000  1,000 100,000
//	payload inline, 40-byte entries                  1.22x  1.30x   1.34x  1.80x
//	16-byte entries, payloads in a parallel array     1.37x  1.34x   1.39x  1.68x
//	16-byte entries, payloads in a slot table         1.05x  1.29x   1.22x  1.88x
//	  + prefetch the root's children's slots (this)  1.06x  1.09x   1.03x  1.10x
//	16-byte entries, no payload read (a floor)       1.10x  1.00x   1.03x  1.07x
//
// At 100,000 events the slot table is 3.2 MB and the slot of the next event
// is a random one: without the prefetch, that one cache miss per event costs
// up to as much as the whole heap operation. (Loading the slots early with
// ordinary loads does not help: a load that misses blocks the pipeline.) A
// 4-ary heap (16-byte entries, slot table, before the other changes) was
// slower than the binary one at both sizes: 1.6x and 2.2x against 1.4x and
// 1.9x, in wall-clock runs.
//
// Later, on the 2-core Intel Xeon VM: which child of a node is smaller is a
// coin toss, and the mispredicted branch on it was most of a sift's cost.
// Picking the child with a branchless 128-bit compare (entry.before) took
// the engine from 84 to 49 ns per hold at 1,000 events and from 170 to 149
// at 100,000 (GOMAXPROCS=1, -benchtime 2000000x), below the bare heap, which
// keeps the plain compare: 72 and 141. A 4-ary heap (four children in one
// line, the smallest picked without a branch) measured 66-68 and 150-154:
// slower with a thousand events, no better with a hundred thousand.
//
// Then a radix heap (radix.go): each entry moves down a few buckets in its
// life, through sequential memory, instead of being sifted through a dozen
// levels of random memory on every push and pop. With the queue in it from
// the start, per hold (GOMAXPROCS=1, -benchtime 1000000x):
//
//	pending         1,000  2,000  4,000  8,000  16,000  32,000  100,000
//	binary heap        42     46     52     59      66      74      115
//	radix heap         62     61     55     51      51      53       54
//
// Each run of BenchmarkCDNSteadyDay, whose queue holds a few thousand
// events and peaks near 14,000 (global), was 4 to 9% slower with the radix
// heap for every size, 3 to 8% slower on global and fanout-tree with it
// from 4,096 events on, and no faster from 8,192 (medians of 5). So the engine keeps
// the binary heap and moves the queue to the radix heap beyond 16,384
// events (Engine.big), back below 4,096: a stampede of a million requests
// for one key on the one-level topology, which keeps hundreds of thousands
// of events pending, ran in 3.3 s instead of 5.2.

// holdSizes are the queue sizes both hold benchmarks run at. Their
// sub-benchmark names must stay identical so benchstat can line them up.
var holdSizes = []int{1000, 100000}

// holdIncrements is a fixed table of exponential increments with a mean of
// one virtual microsecond, drawn from a PCG with a fixed seed. Its length is
// a power of two so the benchmarks index it with a mask.
var holdIncrements = func() []Time {
	const n = 1 << 16
	r := rand.New(rand.NewPCG(1, 2))
	incs := make([]Time, n)
	for i := range incs {
		incs[i] = Time(r.ExpFloat64()*float64(Microsecond)) + 1
	}
	return incs
}()

const holdMask = 1<<16 - 1

func BenchmarkEngineHold(b *testing.B) {
	for _, n := range holdSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			incs := holdIncrements
			var k int
			var e *Engine
			e = New(func(now Time, ev Event) {
				e.After(incs[k&holdMask], ev)
				k++
			})
			for i := range n {
				e.At(incs[i&holdMask], Event{Kind: 1, Target: int32(i)})
			}
			// Warm up: one pass over the queue puts it in its steady state
			// and grows the slot table to its final size.
			e.Run(Forever, uint64(n))
			b.ReportAllocs()
			b.ResetTimer()
			e.Run(Forever, uint64(b.N))
			b.StopTimer()
			if e.Pending() != n {
				b.Fatalf("Pending() = %d after the run, want %d", e.Pending(), n)
			}
		})
	}
}

// bareEntry and bareHeap are the reference: a binary min-heap of (time,
// sequence) pairs and nothing else.
type bareEntry struct {
	at  Time
	seq uint64
}

type bareHeap []bareEntry

func (h bareHeap) less(i, j int) bool {
	return h[i].at < h[j].at || (h[i].at == h[j].at && h[i].seq < h[j].seq)
}

func (h *bareHeap) push(x bareEntry) {
	*h = append(*h, x)
	s := *h
	j := len(s) - 1
	for j > 0 {
		p := (j - 1) / 2
		if !s.less(j, p) {
			break
		}
		s[j], s[p] = s[p], s[j]
		j = p
	}
}

func (h *bareHeap) pop() bareEntry {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	*h = s
	j := 0
	for {
		c := 2*j + 1
		if c >= n {
			break
		}
		if c+1 < n && s.less(c+1, c) {
			c++
		}
		if !s.less(c, j) {
			break
		}
		s[j], s[c] = s[c], s[j]
		j = c
	}
	return top
}

func BenchmarkBareHeapHold(b *testing.B) {
	for _, n := range holdSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			incs := holdIncrements
			h := make(bareHeap, 0, n)
			var seq uint64
			for i := range n {
				h.push(bareEntry{at: incs[i&holdMask], seq: seq})
				seq++
			}
			k := 0
			hold := func(count int) {
				for range count {
					top := h.pop()
					h.push(bareEntry{at: top.at + incs[k&holdMask], seq: seq})
					seq++
					k++
				}
			}
			hold(n)
			b.ReportAllocs()
			b.ResetTimer()
			hold(b.N)
			b.StopTimer()
			if len(h) != n {
				b.Fatalf("len = %d after the run, want %d", len(h), n)
			}
		})
	}
}
