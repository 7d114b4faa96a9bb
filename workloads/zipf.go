package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// Zipf draws key numbers 0..keys-1, key 0 the most popular, with
// P(k) proportional to 1/(k+1)^s.
//
// It draws exactly what math/rand/v2's Zipf draws from the same stream (a
// test compares them over millions of draws), but faster: rand.Zipf spends
// a logarithm and two exponentials on every draw, turning a uniform number
// u into a candidate key and deciding whether to accept it. For the uniform
// numbers that rand.Zipf accepts at once as one of the most popular keys,
// Zipf looks the key up in a table instead (see zipfTable); the rest, and
// the rare u that lies too close to the end of such a number's interval for
// the table to be trusted, go through rand.Zipf itself, replayed with that
// u.
type Zipf struct {
	z *zipf // nil: a single key, always 0
}

type zipf struct {
	r      *rand.Rand
	ref    *rand.Zipf   // draws through replay
	replay replaySource // first the draw the table could not decide, then r
	table  *zipfTable
}

// replaySource hands rand.Zipf a given first number, then the caller's
// stream, so that rand.Zipf consumes the stream exactly as it would have.
type replaySource struct {
	first uint64
	have  bool
	r     *rand.Rand
}

func (s *replaySource) Uint64() uint64 {
	if s.have {
		s.have = false
		return s.first
	}
	return s.r.Uint64()
}

// NewZipf returns a Zipf law over keys keys with exponent s > 1, drawing
// from r. A single key always draws 0.
func NewZipf(r *rand.Rand, s float64, keys int) (Zipf, error) {
	if keys < 1 {
		return Zipf{}, fmt.Errorf("keys must be at least 1, got %d", keys)
	}
	if keys == 1 {
		return Zipf{}, nil
	}
	if !(s > 1) {
		return Zipf{}, fmt.Errorf("zipf exponent must be greater than 1, got %v", s)
	}
	z := &zipf{r: r, table: tableFor(s, keys)}
	z.replay.r = r
	z.ref = rand.NewZipf(rand.New(&z.replay), s, 1, uint64(keys-1))
	return Zipf{z: z}, nil
}

// Next returns a key number.
func (z Zipf) Next() int {
	if z.z == nil {
		return 0
	}
	return z.z.next()
}

func (z *zipf) next() int {
	// rand.Zipf draws Float64, the low 53 bits of Uint64.
	u := z.r.Uint64()
	if k, ok := z.table.lookup(u & uTop); ok {
		return k
	}
	// Replay u through rand.Zipf, which draws again from r if it rejects.
	z.replay.first, z.replay.have = u, true
	return int(z.ref.Uint64())
}

// zipfTable maps the uniform number u (53 bits) of rand.Zipf's first draw
// to the key it returns, for the u that rand.Zipf accepts at once with one
// of the keys below tableKeys.
//
// rand.Zipf (rejection-inversion, Hörmann and Derflinger) turns u into a
// real x = hinv(hxm + u/2^53 * (hx0 - hxm)), increasing as u decreases,
// takes the nearest integer k as its candidate, and accepts it when x is
// near enough to k or when u's image is above a bound that depends on k
// alone; otherwise it draws again. So in exact arithmetic each key k is
// accepted on one interval of u, from x = k+0.5 (exclusive) up to some
// x_a(k) >= k-0.5, and rejected just below x_a(k) down to x = k-0.5. The
// table holds, for each k below tableKeys, the ends of its accepted
// interval, placed with the formulas and then found exactly by bisection
// with rand.Zipf itself as the oracle. Rounding can blur the outcome near
// an end by a few units in x's last place, which is far fewer than guard
// values of u, so every u within guard of an end is left to rand.Zipf, as
// are the rejected intervals and the larger keys: one draw in about 10^5
// besides those.
type zipfTable struct {
	// Accepted intervals, in decreasing order of u: u in iv[k] draws k.
	iv []interval
	// guide[c] is the first interval whose lo is at most the top of cell
	// c of 2^guideBits equal cells of u, so that a lookup scans about one
	// interval.
	guide []uint16
}

type interval struct{ lo, hi uint64 }

const (
	tableKeys = 512     // keys whose intervals are tabulated (fit guide's uint16)
	guard     = 1 << 24 // u this close to an interval's end go to rand.Zipf
	window    = 1 << 27 // how far from its formula an end is searched for
	guideBits = 12
	uBits     = 53
	uTop      = 1<<uBits - 1
)

var (
	tablesMu sync.Mutex
	tables   = map[[2]float64]*zipfTable{}
)

// tableFor returns the table for exponent s over keys keys, building it the
// first time (a few milliseconds) and sharing it after.
func tableFor(s float64, keys int) *zipfTable {
	tablesMu.Lock()
	defer tablesMu.Unlock()
	k := [2]float64{s, float64(keys)}
	if t := tables[k]; t != nil {
		return t
	}
	t := buildTable(s, keys)
	tables[k] = t
	return t
}

// oracle runs rand.Zipf with a chosen first draw.
type oracle struct {
	z   *rand.Zipf
	src oracleSource
}

type oracleSource struct {
	first uint64
	n     int
	rest  *rand.Rand
}

func (s *oracleSource) Uint64() uint64 {
	s.n++
	if s.n == 1 {
		return s.first
	}
	return s.rest.Uint64() // any numbers, to let a rejected draw finish
}

// accepts reports whether rand.Zipf, drawing u first, accepts key k at once.
func (o *oracle) accepts(u uint64, k int) bool {
	o.src.first, o.src.n = u, 0
	got := int(o.z.Uint64())
	return o.src.n == 1 && got == k
}

// buildTable finds each key's accepted interval of u, stopping at the first
// key for which the formulas and rand.Zipf disagree (from there on every u
// goes to rand.Zipf).
func buildTable(s float64, keys int) *zipfTable {
	t := &zipfTable{}
	if s < 1.01 {
		// hinv raises to the power 1/(1-s): rounding grows without bound
		// as s nears 1. Leave every draw to rand.Zipf.
		t.guide = make([]uint16, 1<<guideBits)
		return t
	}
	o := &oracle{}
	o.src.rest = rand.New(rand.NewPCG(1, 1))
	o.z = rand.NewZipf(rand.New(&o.src), s, 1, uint64(keys-1))

	// rand.Zipf's constants (v = 1), and u as a function of x.
	q, v := s, 1.0
	h := func(x float64) float64 { return math.Exp((1-q)*math.Log(v+x)) / (1 - q) }
	hinv := func(y float64) float64 { return math.Exp(math.Log((1-q)*y)/(1-q)) - v }
	hxm := h(float64(keys-1) + 0.5)
	hx0minusHxm := h(0.5) - math.Exp(math.Log(v)*(-q)) - hxm
	squeeze := 1 - hinv(h(1.5)-math.Exp(-q*math.Log(v+1)))
	uAt := func(x float64) float64 { return (h(x) - hxm) / hx0minusHxm * (1 << uBits) }

	// find returns the u in [near-window, near+window] at which "rand.Zipf
	// accepts k" turns from in (at the side given) to out, or false if
	// it does not turn exactly once there as far as the ends show.
	find := func(near float64, k int, inAbove bool) (uint64, bool) {
		if near-window < 0 || near+window > uTop {
			return 0, false
		}
		lo, hi := uint64(near-window), uint64(near+window)
		if o.accepts(hi, k) != inAbove || o.accepts(lo, k) == inAbove {
			return 0, false
		}
		for hi-lo > 1 { // accepts(hi) == inAbove, accepts(lo) != inAbove
			mid := lo + (hi-lo)/2
			if o.accepts(mid, k) == inAbove {
				hi = mid
			} else {
				lo = mid
			}
		}
		if inAbove {
			return hi, true // the lowest u still in
		}
		return lo, true // the highest u still in
	}

	for k := 0; k < min(tableKeys, keys); k++ {
		// The interval's low end, where x reaches k+0.5.
		lo, ok := find(uAt(float64(k)+0.5), k, true)
		if !ok {
			break
		}
		// Its high end: x = x_a(k), or the top of u for key 0.
		hi := uint64(uTop)
		if k > 0 {
			xa := float64(k) - squeeze
			if xc := hinv(h(float64(k)+0.5) - math.Exp(-math.Log(float64(k)+v)*q)); xc < xa {
				xa = max(xc, float64(k)-0.5)
			}
			if hi, ok = find(uAt(xa), k, false); !ok {
				break
			}
		} else if !o.accepts(hi, 0) {
			break
		}
		if hi <= lo+2*guard {
			break // too narrow to be worth it: the rest is left to rand.Zipf
		}
		if mid := lo + (hi-lo)/2; !o.accepts(mid, k) {
			break
		}
		t.iv = append(t.iv, interval{lo, hi})
	}
	t.guide = make([]uint16, 1<<guideBits)
	i := 0
	for c := len(t.guide) - 1; c >= 0; c-- {
		cellTop := uint64(c+1)<<(uBits-guideBits) - 1
		for i < len(t.iv) && t.iv[i].lo > cellTop {
			i++
		}
		t.guide[c] = uint16(i)
	}
	return t
}

// lookup returns the key rand.Zipf accepts at once when its first draw is
// u, or false when the table cannot say.
func (t *zipfTable) lookup(u uint64) (int, bool) {
	i := int(t.guide[u>>(uBits-guideBits)])
	for i < len(t.iv) && t.iv[i].lo > u {
		i++
	}
	if i == len(t.iv) || u > t.iv[i].hi || u-t.iv[i].lo < guard || t.iv[i].hi-u < guard {
		return 0, false
	}
	return i, true
}
