package workloads

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Zipf draws exactly what math/rand/v2's Zipf draws from the same stream,
// and leaves the stream where rand.Zipf leaves it, for exponents and key
// counts from tiny to large.
func TestZipfDrawsWhatRandZipfDraws(t *testing.T) {
	draws := 2_000_000
	if testing.Short() {
		draws = 200_000
	}
	for _, tc := range []struct {
		s    float64
		keys int
	}{
		{1.1, 10_000}, {1.1, 2}, {1.1, 3}, {1.1, 1_500}, {1.005, 1000}, {1.01, 100_000},
		{1.5, 50}, {2, 1_000_000}, {3, 10_000}, {8, 1000},
	} {
		t.Run(fmt.Sprintf("s=%v/keys=%d", tc.s, tc.keys), func(t *testing.T) {
			a, b := rand.New(rand.NewPCG(7, uint64(tc.keys))), rand.New(rand.NewPCG(7, uint64(tc.keys)))
			ref := rand.NewZipf(a, tc.s, 1, uint64(tc.keys-1))
			z, err := NewZipf(b, tc.s, tc.keys)
			if err != nil {
				t.Fatal(err)
			}
			for i := range draws {
				if want, got := int(ref.Uint64()), z.Next(); got != want {
					t.Fatalf("draw %d: %d, rand.Zipf drew %d", i, got, want)
				}
			}
			if a.Uint64() != b.Uint64() {
				t.Errorf("the streams parted: Zipf consumed a different number of draws")
			}
		})
	}
}

// The table agrees with rand.Zipf at the very ends of the intervals it
// trusts, where rounding would show first.
func TestZipfTableAtItsEdges(t *testing.T) {
	for _, s := range []float64{1.1, 2} {
		const keys = 10_000
		tbl := buildTable(s, keys)
		if len(tbl.iv) < 100 {
			t.Fatalf("s=%v: only %d keys tabulated", s, len(tbl.iv))
		}
		o := &oracle{}
		o.src.rest = rand.New(rand.NewPCG(3, 3))
		o.z = rand.NewZipf(rand.New(&o.src), s, 1, keys-1)
		for k, iv := range tbl.iv {
			for _, u := range []uint64{iv.lo + guard, iv.hi - guard, iv.lo - 1, iv.hi + 1} {
				if u > uTop {
					continue // beyond the top of key 0's interval: no such u
				}
				got, ok := tbl.lookup(u)
				inside := u >= iv.lo+guard && u <= iv.hi-guard
				if ok != inside {
					t.Fatalf("s=%v key %d: lookup(%d) decided %v, want %v", s, k, u, ok, inside)
				}
				if ok && (got != k || !o.accepts(u, k)) {
					t.Fatalf("s=%v key %d: lookup(%d) = %d; rand.Zipf accepts it at once: %v", s, k, u, got, o.accepts(u, k))
				}
			}
		}
	}
}

// Most draws are decided by the table: that is what makes Zipf fast.
func TestZipfMostlyFromTable(t *testing.T) {
	z, err := NewZipf(rand.New(rand.NewPCG(1, 1)), 1.1, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	hits := 0
	const n = 100_000
	for range n {
		if _, ok := z.z.table.lookup(r.Uint64() & uTop); ok {
			hits++
		}
	}
	if hits < n*3/4 {
		t.Errorf("the table decides %d of %d draws, want at least 75%%", hits, n)
	}
}

func BenchmarkZipf(b *testing.B) {
	b.Run("rand.Zipf", func(b *testing.B) {
		z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, 9999)
		for b.Loop() {
			z.Uint64()
		}
	})
	b.Run("Zipf", func(b *testing.B) {
		z, _ := NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 10_000)
		for b.Loop() {
			z.Next()
		}
	})
}
