package locks_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// swr returns a topology edit that gives the node level hard TTL node and
// every shared level hard TTL shared (0 leaves a level without it).
func swr(node, shared time.Duration) func(int, *locks.Level) {
	return func(_ int, l *locks.Level) {
		if l.Scope.Shared() {
			l.HardTTL = shared
		} else {
			l.HardTTL = node
		}
	}
}

// A hot key asked for steadily never goes cold under stale-while-revalidate:
// after the first miss no request waits for the upstream (each gets a hit,
// or a stale value while the refresh runs), and the upstream is called about once per
// soft TTL, by the refreshes. Without it every expiry makes the requests of
// the next 100ms wait.
func TestRevalidateKeepsHotKeyWarm(t *testing.T) {
	const every, span = 20 * ms, 30 * time.Second
	for _, tc := range []struct {
		name       string
		topo       string
		node, shrd time.Duration
		waiters    bool // some requests after the first wait for a value
		calls      [2]int
	}{
		{"two-level without", "two-level", 0, 0, true, [2]int{3, 4}},
		{"two-level node only", "two-level", 5 * time.Second, 0, false, [2]int{3, 4}},
		{"two-level both", "two-level", 5 * time.Second, 20 * time.Second, false, [2]int{2, 3}},
		{"one-level region", "one-level", 0, 20 * time.Second, false, [2]int{2, 3}},
		{"node-only", "node-only", 5 * time.Second, 0, false, [2]int{19, 21}}, // each node refreshes on its own
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultConfig(builtin(t, tc.topo, swr(tc.node, tc.shrd)), place{}, place{})
			cfg.NodeCacheTTL = 3 * time.Second
			cfg.SharedCacheTTL = 10 * time.Second
			if tc.node == 0 && tc.shrd > 0 {
				// The node cache serves a stale region value until the
				// region's hard TTL.
				cfg.NodeCacheTTL = time.Second
			}
			w := newWorld(t, cfg)
			var ids []locks.ReqID
			for at0 := time.Duration(0); at0 < span; at0 += every {
				ids = append(ids, w.request(at(at0), int(at0/every)%2, "k"))
			}
			w.run()
			w.settled(false)
			waited := 0
			for _, id := range ids {
				// A store round trip is 2ms; an upstream call 100ms. The
				// requests of the first call's 100ms wait for it anyway.
				if r := w.req(id); r.at >= at(200*ms) && r.repliedAt.Sub(r.at) > 10*ms {
					waited++
				}
			}
			if (waited > 0) != tc.waiters {
				t.Errorf("%d requests waited for a value, want waiters: %v", waited, tc.waiters)
			}
			if n := len(w.fetches); n < tc.calls[0] || n > tc.calls[1] {
				t.Errorf("%d upstream calls, want %d to %d", n, tc.calls[0], tc.calls[1])
			}
			var st locks.Stats
			for _, n := range w.nodes {
				s := n.m.Stats()
				st.Refreshes += s.Refreshes
				for o, c := range s.RefreshOutcomes {
					st.RefreshOutcomes[o] += c
				}
				st.Served[locks.ServedStaleRevalidating] += s.Served[locks.ServedStaleRevalidating]
			}
			if swrOn := tc.node > 0 || tc.shrd > 0; swrOn != (st.Refreshes > 0) || swrOn != (st.Served[locks.ServedStaleRevalidating] > 0) {
				t.Errorf("%d refreshes and %d stale replies, want some exactly when a level has a hard TTL", st.Refreshes, st.Served[locks.ServedStaleRevalidating])
			}
			if st.RefreshOutcomes[locks.OutcomeFailed] != 0 {
				t.Errorf("refresh outcomes %v, want none failed", st.RefreshOutcomes)
			}
		})
	}
}

// A refresh whose upstream call fails ends failed, and the stale value is
// served on until its hard TTL, each request past the soft TTL starting a
// new refresh once the last one ended; past the hard TTL a request waits
// for a value as it would without stale-while-revalidate.
func TestRevalidateFailureServesStaleUntilHardTTL(t *testing.T) {
	cfg := defaultConfig(builtin(t, "node-only", swr(3*time.Second, 0)), place{})
	cfg.NodeCacheTTL = time.Second
	cfg.UpstreamFn = func(n int, _ string) (time.Duration, error) {
		if n == 2 || n == 3 {
			return 100 * ms, errors.New("origin down")
		}
		return 100 * ms, nil
	}
	w := newWorld(t, cfg)
	w.request(at(0), 0, "k")                       // call 1 at 0, cached until 1.1s, stale until 4.1s
	stale1 := w.request(at(1500*ms), 0, "k")       // refresh (call 2) fails at 1.6s
	stale2 := w.request(at(1550*ms), 0, "k")       // the refresh still runs: no second one
	stale3 := w.request(at(2*time.Second), 0, "k") // a new refresh (call 3) fails at 2.1s
	cold := w.request(at(4200*ms), 0, "k")         // past the hard TTL: waits for call 4
	w.run()
	w.settled(false)
	for _, id := range []locks.ReqID{stale1, stale2, stale3} {
		if rep := w.reply(id); rep.Served != locks.ServedStaleRevalidating || rep.Value != 1 || w.req(id).repliedAt != w.req(id).at {
			t.Errorf("request %d: %+v, want the stale value 1 at once", id, rep)
		}
	}
	if rep := w.reply(cold); rep.Served != locks.ServedFetched || rep.Value != 4 {
		t.Errorf("request after the hard TTL: %+v, want fetched value 4", rep)
	}
	st := w.nodes[0].m.Stats()
	if st.Refreshes != 2 || st.RefreshOutcomes != [locks.NumOutcomes]uint64{locks.OutcomeFailed: 2} {
		t.Errorf("%d refreshes ended %v, want 2, both failed", st.Refreshes, st.RefreshOutcomes)
	}
}

// A hard TTL that does not exceed its soft TTL, or a node hard TTL without
// a node cache, is refused, naming the level and the field.
func TestRevalidateConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		topo        string
		node, shrd  time.Duration
		nodeTTL     time.Duration
		wantInError string
	}{
		{"two-level", 5 * time.Second, 0, 10 * time.Second, `level 0: hard_ttl: 5s must be longer than the soft TTL (the node cache TTL, 10s)`},
		{"two-level", 0, time.Minute, 10 * time.Second, `level 1: hard_ttl: 1m0s must be longer than the soft TTL (the shared cache TTL, 1m0s)`},
		{"node-only", time.Minute, 0, 0, `level 0: hard_ttl: 1m0s needs a node cache`},
		{"one-level", 0, -time.Second, 10 * time.Second, `level 0: hard_ttl: must not be negative`},
	} {
		t.Run(tc.wantInError, func(t *testing.T) {
			top, _ := locks.Builtin(tc.topo, defaultLevel)
			swr(tc.node, tc.shrd)(0, &top.Levels[0])
			if len(top.Levels) > 1 {
				swr(tc.node, tc.shrd)(1, &top.Levels[1])
			}
			_, err := locks.NewMachine[int](locks.Config{Topology: top, NodeCacheTTL: tc.nodeTTL, SharedCacheTTL: time.Minute})
			if err == nil || !strings.Contains(err.Error(), tc.wantInError) {
				t.Errorf("error %v, want one containing %q", err, tc.wantInError)
			}
		})
	}
}

// Requests that come past the hard TTL while a refresh runs join it on a
// node level, and are answered with its value.
func TestRevalidateFollowersJoinRefreshPastHardTTL(t *testing.T) {
	cfg := defaultConfig(builtin(t, "node-only", swr(1100*ms, 0)), place{})
	cfg.NodeCacheTTL = time.Second
	cfg.UpstreamFn = func(n int, _ string) (time.Duration, error) {
		if n == 2 {
			return time.Second, nil // the refresh outlives the hard TTL
		}
		return 100 * ms, nil
	}
	w := newWorld(t, cfg)
	w.request(at(0), 0, "k")                // cached until 1.1s, stale until 1.2s
	stale := w.request(at(1150*ms), 0, "k") // refresh: call 2, until 2.15s
	late := w.request(at(1500*ms), 0, "k")  // past the hard TTL: joins the refresh
	w.run()
	w.settled(false)
	if rep := w.reply(stale); rep.Served != locks.ServedStaleRevalidating {
		t.Errorf("stale request: %+v", rep)
	}
	if rep := w.reply(late); rep.Served != locks.ServedCollapsed || rep.Value != 2 {
		t.Errorf("late request: %+v, want collapsed on the refresh's value 2", rep)
	}
	if n := len(w.fetches); n != 2 {
		t.Errorf("%d upstream calls, want 2", n)
	}
}
