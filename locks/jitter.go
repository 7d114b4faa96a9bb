package locks

import "time"

// TTL jitter (Config.TTLJitter): each time a flight caches a value, its
// node-cache TTL and shared-cache TTL are shortened by a fraction of
// themselves drawn in [0, TTLJitter), so that keys cached at the same moment
// (a deploy, a cold start, a synchronised burst) do not all expire at the
// same moment and stampede together.
//
// The draw is a hash of the key and the time of the fill, not a random
// stream: the machine keeps no generator for it, it costs nothing when the
// option is off, and a run is as deterministic as its inputs. Different keys
// filled at the same instant get unrelated fractions, and so does one key
// filled at two instants. A TTL is only ever shortened, so the bound a TTL
// sets on how stale a value may be still holds.

// jittered returns ttl shortened by TTLJitter·x of itself, for a draw x in
// [0, 1) (jitterDraw), and never below a millisecond, the stores' unit.
func (m *Machine[V]) jittered(ttl time.Duration, x float64) time.Duration {
	if ttl <= 0 {
		return ttl
	}
	d := time.Duration(float64(ttl) * (1 - m.cfg.TTLJitter*x))
	return max(d, time.Millisecond)
}

// jitterDraw returns the jitter draw in [0, 1) for key k filled at now: a
// SplitMix64 finaliser over the key (its number when numbered, else an
// FNV-1a hash of its name) and the time.
func jitterDraw(k keyRef, now Time) float64 {
	var h uint64
	if k.numbered {
		h = uint64(k.num) + 1
	} else {
		h = 14695981039346656037
		for i := 0; i < len(k.name); i++ {
			h ^= uint64(k.name[i])
			h *= 1099511628211
		}
	}
	h ^= uint64(now) * 0x9E3779B97F4A7C15
	h ^= h >> 30
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 27
	h *= 0x94D049BB133111EB
	h ^= h >> 31
	return float64(h>>11) / (1 << 53)
}
