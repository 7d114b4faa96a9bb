package locks

import (
	"math"
	"time"
)

// XFetch, early probabilistic refresh (Vattani, Chierichetti and Lowenstein,
// "Optimal Probabilistic Cache Stampede Prevention", VLDB 2015), with
// Config.XFetchBeta as its beta.
//
// Each cached value carries delta, how long the upstream call that produced
// it took (keyEntry.delta in the node cache, Op.Delta and Result.Delta in a
// shared cache). A request with the driver's uniform draw u in (0, 1]
// (RequestDrawn) refreshes the value early when
//
//	now - delta·beta·ln(u) >= expiry
//
// that is, when the time the value has left is at most delta·beta·(-ln u):
// the nearer the expiry and the longer the value takes to compute, the likelier.
// The refresh is a background refresh (revalidate.go), so the request that
// drew it is served the still fresh value at once, and one refresh per key
// runs on a node. At the node cache the machine decides; at a shared cache
// the store does, from the factor beta·(-ln u) the read carries (Op.Early)
// and the delta it keeps, and answers a value due for refresh as a stale
// one (Result.Stale) while it gives out the lock. Without a lock behind the
// cache (topologies none and node-only) the refresh calls the upstream
// directly; behind one, the lock keeps it to one call per key.
//
// The machine draws nothing: the draw is an input, so that a simulation
// stays deterministic and a validation can replay the simulator's draws on
// the real side.

// xfetchFactor returns beta·(-ln u) for the draw u, or 0 (no early refresh)
// without XFetch or for a draw outside (0, 1].
func (m *Machine[V]) xfetchFactor(u float64) float64 {
	if m.cfg.XFetchBeta <= 0 || !(u > 0 && u <= 1) {
		return 0
	}
	return m.cfg.XFetchBeta * -math.Log(u)
}

// early reports whether a value with left time to live and recompute time
// delta is due for an early refresh under factor beta·(-ln u).
func early(left, delta time.Duration, factor float64) bool {
	return factor > 0 && delta > 0 && float64(left) <= float64(delta)*factor
}

// deltaUnit is the resolution of a delta kept in a node-cache entry.
const deltaUnit = time.Microsecond

// packDelta packs a recompute time into the 16 bits a node-cache entry has
// room for: microseconds as a float with an 11-bit mantissa and a 5-bit
// exponent, exact below 2048us, less than 0.1% short above, up to about 73 minutes
// (longer times are kept as that). The key table's slots stay at 32 bytes.
func packDelta(d time.Duration) uint16 {
	us := uint64(max(d, 0) / deltaUnit)
	var exp uint64
	for us >= 1<<11 {
		us >>= 1
		exp++
	}
	if exp > 31 {
		return math.MaxUint16
	}
	return uint16(exp<<11 | us)
}

// unpackDelta is the inverse of packDelta.
func unpackDelta(p uint16) time.Duration {
	return time.Duration(uint64(p&(1<<11-1))<<(p>>11)) * deltaUnit
}
