package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func draws(r *rand.Rand, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = r.Uint64()
	}
	return out
}

// TestStreamsAreStable pins the first draws of a few streams. Every results
// file records a seed and expects it to replay the same run: if this test
// has to change, old results files no longer replay.
func TestStreamsAreStable(t *testing.T) {
	tests := []struct {
		seed uint64
		name string
		want []uint64
	}{
		{0, "", []uint64{10744851749802162438, 18277727804081040306, 4925534139174950883}},
		{1, "upstream", []uint64{189376069254310125, 10535248003290190365, 16170544874695413169}},
		{1, "node/17/jitter", []uint64{6877054599503376037, 14517555677465321600, 8742059127865890926}},
		{42, "workload", []uint64{90323158439339020, 12880713654412741953, 1659193462882111287}},
	}
	for _, tt := range tests {
		if got := draws(NewStreams(tt.seed).Stream(tt.name), 3); !slices.Equal(got, tt.want) {
			t.Errorf("seed %d, stream %q: first draws %v, want %v", tt.seed, tt.name, got, tt.want)
		}
	}
}

// TestStreamIsFreshEachCall specifies that Stream keeps no state: asking
// again for a name starts its sequence over.
func TestStreamIsFreshEachCall(t *testing.T) {
	s := NewStreams(7)
	a := s.Stream("upstream")
	first := draws(a, 10)
	draws(a, 100) // advancing one generator does not affect the next call
	if again := draws(s.Stream("upstream"), 10); !slices.Equal(first, again) {
		t.Errorf("Stream(%q) called twice gave %v then %v; want the same sequence", "upstream", first, again)
	}
	if got := s.Seed(); got != 7 {
		t.Errorf("Seed() = %d, want 7", got)
	}
}

// TestStreamsAreIndependent specifies that a component's draws depend only
// on the seed and its own name: not on which other streams exist, on the
// order they were made in, or on how much they were used.
func TestStreamsAreIndependent(t *testing.T) {
	alone := draws(NewStreams(99).Stream("store/region-1"), 50)

	s := NewStreams(99)
	others := []*rand.Rand{s.Stream("upstream"), s.Stream("node/1"), s.Stream("")}
	mine := s.Stream("store/region-1")
	var got []uint64
	for i := range 50 {
		for _, o := range others {
			o.Uint64()
		}
		if i == 25 {
			others = append(others, s.Stream("added-later"))
		}
		got = append(got, mine.Uint64())
	}
	if !slices.Equal(got, alone) {
		t.Error("a stream's draws changed when other streams were created and used around it")
	}
}

// TestStreamsDiffer specifies that different names, and different seeds,
// give different sequences, including names that differ in one byte, that
// are prefixes of one another, or that a weak hash would confuse.
func TestStreamsDiffer(t *testing.T) {
	names := []string{"", "a", "b", "ab", "ba", "a\x00", "node/1", "node/10", "node/2", "node/01", "upstream", "Upstream"}
	seen := map[uint64]string{}
	for _, seed := range []uint64{0, 1, 2, 1 << 63} {
		s := NewStreams(seed)
		for _, name := range names {
			// A collision in the first 64 bits of output among a few dozen
			// streams would be a 1 in 2^58 accident: it means a broken mix.
			key := fmt.Sprintf("seed %d, stream %q", seed, name)
			v := s.Stream(name).Uint64()
			if prev, ok := seen[v]; ok {
				t.Errorf("%s starts with the same draw as %s", key, prev)
			}
			seen[v] = key
		}
	}
}

// TestStreamsLookRandom is a smoke test of the seeding: streams for
// neighbouring seeds and names should not be correlated bit by bit.
func TestStreamsLookRandom(t *testing.T) {
	const n = 4096
	ones := 0
	for i := range n {
		a := NewStreams(uint64(i)).Stream("x").Uint64()
		b := NewStreams(uint64(i + 1)).Stream("x").Uint64()
		ones += popcount(a ^ b)
	}
	// Independent words differ in 32 of 64 bits on average; the standard
	// deviation of the total is 4*sqrt(n) = 256.
	if mean := float64(ones) / n; mean < 31.5 || mean > 32.5 {
		t.Errorf("streams for neighbouring seeds differ in %.2f bits per word on average, want about 32", mean)
	}
}

func popcount(x uint64) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}
