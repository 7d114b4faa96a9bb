package locks_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// Under XFetch a hot key is refreshed shortly before it expires, by about
// one call per expiry, and never goes cold: after the first call no request
// waits for the upstream. Without a lock (none) each node decides on its
// own; behind one (one-level, without node cache) the lock keeps it to one
// call per expiry across the nodes. The bigger beta, the earlier.
func TestXFetchRefreshesBeforeExpiry(t *testing.T) {
	const every, span = 5 * ms, 60 * time.Second
	for _, tc := range []struct {
		topo           string
		nodeTTL        time.Duration
		beta           float64
		calls          [2]int // upstream calls, within
		maxEarly       time.Duration
		sharedLockOnly bool
	}{
		// 1 node, a 10s TTL over a minute: 6 expiries.
		{"none", 10 * time.Second, 1, [2]int{6, 8}, time.Second, false},
		{"none", 10 * time.Second, 4, [2]int{6, 9}, 4 * time.Second, false},
		{"one-level", 0, 1, [2]int{6, 8}, time.Second, true},
	} {
		t.Run(fmt.Sprintf("%s/beta=%g", tc.topo, tc.beta), func(t *testing.T) {
			cfg := defaultConfig(builtin(t, tc.topo), place{})
			cfg.NodeCacheTTL = tc.nodeTTL
			cfg.SharedCacheTTL = 10 * time.Second
			cfg.XFetchBeta = tc.beta
			r := rand.New(rand.NewPCG(1, 2))
			cfg.Draw = func(locks.ReqID) float64 { return 1 - r.Float64() } // in (0, 1]
			w := newWorld(t, cfg)
			// One request fills the cache first: without a node level the
			// requests of its 100ms would each call the upstream.
			ids := []locks.ReqID{w.request(at(0), 0, "k")}
			for t0 := 200 * ms; t0 < span; t0 += every {
				ids = append(ids, w.request(at(t0), 0, "k"))
			}
			w.run()
			w.settled(false)
			if n := len(w.fetches); n < tc.calls[0] || n > tc.calls[1] {
				t.Errorf("%d upstream calls, want %d to %d", n, tc.calls[0], tc.calls[1])
			}
			for _, id := range ids[1:] {
				if r := w.req(id); r.at >= at(200*ms) && r.repliedAt.Sub(r.at) > 10*ms {
					t.Errorf("request %d at %v waited %v: the key went cold", id, dur(r.at), r.repliedAt.Sub(r.at))
					break
				}
			}
			// Each refresh after the first call starts less than maxEarly
			// before the value it replaces expires (at 10s after that one
			// was fetched, plus the 100ms of the call).
			for i := 1; i < len(w.fetches); i++ {
				prev, f := w.fetches[i-1], w.fetches[i]
				expiry := prev.done.Add(10 * time.Second)
				if !f.fetch.Background || f.at > expiry || expiry.Sub(f.at) > tc.maxEarly {
					t.Errorf("call %d at %v (background %v), for a value expiring at %v: want a refresh within %v before", f.n, dur(f.at), f.fetch.Background, dur(expiry), tc.maxEarly)
				}
			}
			st := w.nodes[0].m.Stats()
			if tc.sharedLockOnly != (st.EarlyReads > 0) || tc.sharedLockOnly == (st.EarlyRefreshes > 0) {
				t.Errorf("%d early refreshes at the node cache, %d early reads at the shared cache", st.EarlyRefreshes, st.EarlyReads)
			}
		})
	}
}

// Without a draw (Request), or without XFetch, nothing is refreshed early:
// the key expires and the next request misses.
func TestXFetchNeedsDrawAndBeta(t *testing.T) {
	for _, tc := range []struct {
		beta float64
		draw float64
	}{{1, 0}, {0, 0.001}} {
		cfg := defaultConfig(builtin(t, "none"), place{})
		cfg.XFetchBeta = tc.beta
		w := newWorld(t, cfg)
		w.request(at(0), 0, "k")
		for t0 := 9 * time.Second; t0 < 10100*ms; t0 += 10 * ms {
			w.requestDrawn(at(t0), 0, "k", tc.draw)
		}
		miss := w.request(at(10200*ms), 0, "k")
		w.run()
		if rep := w.reply(miss); rep.Served != locks.ServedFetched || len(w.fetches) != 2 {
			t.Errorf("beta %v draw %v: after expiry %+v with %d calls, want a miss fetched by the second call", tc.beta, tc.draw, rep, len(w.fetches))
		}
	}
}

// A negative, infinite or NaN beta is refused, naming the value.
func TestXFetchBetaOutOfRange(t *testing.T) {
	for _, b := range []float64{-1, math.Inf(1), math.NaN()} {
		_, err := locks.NewMachine[int](locks.Config{Topology: builtin(t, "none"), NodeCacheTTL: time.Second, XFetchBeta: b})
		if err == nil || !strings.Contains(err.Error(), "XFetch beta") || !strings.Contains(err.Error(), fmt.Sprint(b)) {
			t.Errorf("beta %v: error %v, want one naming XFetch beta and its value", b, err)
		}
	}
}

// A read that a store answers as stale without a stale window at the level
// is XFetch's early refresh, whatever time left the store reports: Redis
// counts it in whole milliseconds, and says 0 in the last one. The request
// is served the value as a hit, and the flight goes on as the refresh.
func TestEarlyReadInTheLastMillisecond(t *testing.T) {
	topo := builtin(t, "one-level")
	m, err := locks.NewMachine[int](locks.Config{Topology: topo, SharedCacheTTL: time.Second, XFetchBeta: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.RequestDrawn(0, 1, "k", 1e-9)
	var ra locks.Op[int]
	for _, e := range m.Ready() {
		if e.Kind == locks.EffectStore {
			ra = e.Op
		}
	}
	m.StoreDone(locks.Time(ms), ra, locks.Result[int]{Status: locks.StatusAcquired, Fence: 1, Stale: true, Value: 7, ValueTTL: 0, Delta: 100 * ms})
	var served []locks.Served
	fetch := false
	for _, e := range m.Ready() {
		switch e.Kind {
		case locks.EffectReply:
			for r := range e.Replies {
				served = append(served, r.Served)
			}
		case locks.EffectFetch:
			fetch = e.Fetch.Background
		}
	}
	if len(served) != 1 || served[0] != locks.ServedHit || !fetch || m.Stats().EarlyReads != 1 {
		t.Errorf("served %v, background fetch %v, %d early reads; want a hit, the refresh's call and 1", served, fetch, m.Stats().EarlyReads)
	}
}
