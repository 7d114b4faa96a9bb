package locks_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// Keys cached at the same moment get TTLs spread over [1-jitter, 1] of the
// configured ones, each key its own; without jitter every TTL is exactly as
// configured. The node cache follows the same draw: between the shortest
// and the longest jittered node TTL some keys are hits and others misses.
func TestTTLJitterSpreadsExpiries(t *testing.T) {
	const keys = 64
	for _, tc := range []struct {
		jitter   float64
		distinct int // at least this many different shared TTLs
	}{
		{0, 1},
		{0.1, keys - 2},
		{0.5, keys - 2},
		{0.9, keys - 2},
	} {
		t.Run(fmt.Sprintf("jitter=%g", tc.jitter), func(t *testing.T) {
			cfg := defaultConfig(builtin(t, "two-level"), place{})
			cfg.TTLJitter = tc.jitter
			w := newWorld(t, cfg)
			for k := range keys {
				w.request(at(0), 0, fmt.Sprintf("k%d", k))
			}
			w.run()
			w.settled(false)
			st := w.stores[0]
			if len(st.publishes) != keys {
				t.Fatalf("%d publishes, want %d", len(st.publishes), keys)
			}
			seen := map[time.Duration]bool{}
			lo := time.Duration(float64(cfg.SharedCacheTTL) * (1 - tc.jitter))
			for i, p := range st.publishes {
				ttl := st.publishTTLs[i]
				if ttl < lo || ttl > cfg.SharedCacheTTL {
					t.Errorf("%s published with ttl %v, want within [%v, %v]", p.key, ttl, lo, cfg.SharedCacheTTL)
				}
				seen[ttl] = true
			}
			if len(seen) < tc.distinct {
				t.Errorf("%d different TTLs among %d keys, want at least %d", len(seen), keys, tc.distinct)
			}
			if tc.jitter == 0 {
				return
			}
			// Half-way through the spread of node TTLs (filled at 102ms),
			// some keys must have expired and some not.
			probe := at(102*ms + time.Duration(float64(cfg.NodeCacheTTL)*(1-tc.jitter/2)))
			w.runUntil(probe)
			var ids []locks.ReqID
			for k := range keys {
				ids = append(ids, w.request(probe, 0, fmt.Sprintf("k%d", k)))
			}
			w.run()
			hits := 0
			for _, id := range ids {
				if w.req(id).repliedAt == probe {
					hits++
				}
			}
			if hits == 0 || hits == keys {
				t.Errorf("%d of %d keys still in the node cache at %v, want some but not all", hits, keys, dur(probe))
			}
		})
	}
}

// A jitter outside [0, 1) is refused, naming the value.
func TestTTLJitterOutOfRange(t *testing.T) {
	for _, j := range []float64{-0.1, 1, 2, math.NaN(), math.Inf(1)} {
		_, err := locks.NewMachine[int](locks.Config{Topology: builtin(t, "two-level"), NodeCacheTTL: time.Second, SharedCacheTTL: time.Second, TTLJitter: j})
		if err == nil || !strings.Contains(err.Error(), "TTL jitter") || !strings.Contains(err.Error(), fmt.Sprint(j)) {
			t.Errorf("jitter %v: error %v, want one naming the TTL jitter and its value", j, err)
		}
	}
}
