package locks_test

// Specifications of leases: what happens when a holder outlives its lease
// (paused, or with an upstream slower than the lease), and how fencing and
// compare-and-delete keep the late holder from doing harm.

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// A holder paused longer than its lease loses the lock to a second holder.
// Both call the upstream, but when the first wakes up its write carries the
// older fence and the store refuses it: the value in the store stays the
// second holder's, its accepted fence never goes down, and the first
// holder's publish deletes no lock that is not its own.
func TestLeaseExpiresDuringPause(t *testing.T) {
	top := builtin(t, "two-level", func(_ int, l *locks.Level) { l.LeaseTTL = time.Second })
	w := newWorld(t, defaultConfig(top, place{}, place{}))
	first := w.request(at(0), 0, "k") // acquires at 1ms (fence 1), calls until 102ms
	w.pause(at(50*ms), 0, 3*time.Second)
	second := w.request(at(1500*ms), 1, "k") // the lease ended at 1.001s: acquires (fence 2)
	region := w.store(locks.ScopeRegion, 0, 0)

	w.runUntil(at(2 * time.Second))
	if v, ok := region.s.Value(w.now, "k"); !ok || v != 2 {
		t.Fatalf("at 2s the region cache holds %d, %v; want the second holder's value 2", v, ok)
	}
	w.run()
	w.settled(false)

	if len(region.acquisitions) != 2 || region.acquisitions[0].node != 0 || region.acquisitions[1].node != 1 {
		t.Fatalf("acquisitions %+v, want node 0 then node 1 (two holders)", region.acquisitions)
	}
	if got := w.causes(); len(w.fetches) != 2 || got[locks.CauseHolder] != 2 {
		t.Errorf("calls by cause %v, want 2 by holders\n%s", got, w.describe())
	}
	if v, ok := region.s.Value(w.now, "k"); !ok || v != 2 {
		t.Errorf("region cache holds %d, %v; want the second holder's value 2", v, ok)
	}
	if counter, accepted := region.s.Fence(w.now, "k"); counter != 2 || accepted != 2 {
		t.Errorf("fence counter %d, accepted %d; want 2 and 2", counter, accepted)
	}
	if trail := region.acceptedTrail["k"]; len(trail) != 1 || trail[0] != 2 {
		t.Errorf("accepted writes with fences %v, want only [2]", trail)
	}
	if region.refused != 1 || w.nodes[0].m.Stats().WritesRefused != 1 {
		t.Errorf("store refused %d writes, node 0 counted %d; want 1 and 1", region.refused, w.nodes[0].m.Stats().WritesRefused)
	}
	// Each request was answered by its own holder.
	if r := w.reply(first); r.Served != locks.ServedFetched || r.Value != 1 || w.req(first).repliedAt != at(3050*ms) {
		t.Errorf("first request: %+v at %v, want fetched value 1 when the pause ends at 3.05s", r, dur(w.req(first).repliedAt))
	}
	if r := w.reply(second); r.Served != locks.ServedFetched || r.Value != 2 {
		t.Errorf("second request: %+v, want fetched value 2", r)
	}
}

// An upstream call slower than the lease: with renewal (the default) the
// holder extends its lease every third of it and no one else gets in; with
// NoRenew the lease runs out, a waiter on another node takes the lock and
// makes a duplicate call, and the first holder's publish (written, since no
// newer value was accepted yet) leaves the new holder's lock alone.
func TestUpstreamSlowerThanLease(t *testing.T) {
	tests := []struct {
		name         string
		noRenew      bool
		wantCalls    int
		wantWaiter   locks.Served
		wantExtends  bool
		wantAcquired int
	}{
		{"renewed", false, 1, locks.ServedCollapsed, true, 1},
		{"not renewed", true, 2, locks.ServedFetched, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := builtin(t, "two-level", func(i int, l *locks.Level) {
				l.LeaseTTL, l.WaitTimeout, l.NoRenew = 300*ms, 5*time.Second, tt.noRenew
			})
			cfg := defaultConfig(top, place{}, place{})
			cfg.Upstream = time.Second
			w := newWorld(t, cfg)
			region := w.store(locks.ScopeRegion, 0, 0)
			holder := w.request(at(0), 0, "k")
			waiter := w.request(at(100*ms), 1, "k")

			// The first lease would end at 301ms. At 400ms the lock is
			// still the first holder's if it renews, the second's if not.
			w.runUntil(at(400 * ms))
			tok, held := region.s.Holder(w.now, "k")
			if !held || len(region.acquisitions) != tt.wantAcquired || tok != region.acquisitions[tt.wantAcquired-1].token {
				t.Errorf("at 400ms the lock is held by %v (%v), want the last of %+v", tok, held, region.acquisitions)
			}
			w.run()
			w.settled(false)

			if len(w.fetches) != tt.wantCalls || len(region.acquisitions) != tt.wantAcquired {
				t.Errorf("%d calls and %d acquisitions, want %d and %d\n%s", len(w.fetches), len(region.acquisitions), tt.wantCalls, tt.wantAcquired, w.describe())
			}
			if r := w.reply(holder); r.Served != locks.ServedFetched || r.Value != 1 {
				t.Errorf("holder got %+v, want fetched value 1", r)
			}
			if r := w.reply(waiter); r.Served != tt.wantWaiter {
				t.Errorf("waiter got %+v, want %s", r, tt.wantWaiter)
			}
			st := w.nodes[0].m.Stats()
			if got := st.Ops[locks.OpExtend] > 0; got != tt.wantExtends {
				t.Errorf("holder sent %d extensions, want some: %v", st.Ops[locks.OpExtend], tt.wantExtends)
			}
			if st.LeasesLost != 0 {
				t.Errorf("holder counted %d leases lost, want 0 (it never learns without renewing)", st.LeasesLost)
			}
			// Renewal every 100ms from 2ms: at 102, 202, ..., 902ms.
			if !tt.noRenew && st.Ops[locks.OpExtend] != 9 {
				t.Errorf("holder sent %d extensions, want 9 (every 100ms of a 1s call)", st.Ops[locks.OpExtend])
			}
			// Without renewal both leases ran out before their holders
			// published: both writes are accepted (fence 1, then 2), and
			// neither publish deletes a lock.
			want := []publication{{0, "k", 1, true, true}}
			if tt.noRenew {
				want = []publication{{0, "k", 1, true, false}, {1, "k", 2, true, false}}
			}
			if !slices.Equal(region.publishes, want) {
				t.Errorf("publishes %+v, want %+v", region.publishes, want)
			}
			if trail := region.acceptedTrail["k"]; !nonDecreasing(trail) {
				t.Errorf("accepted fences %v go down", trail)
			}
		})
	}
}

// A holder stops renewing and counts its lease lost when it learns it no
// longer holds the lock: at once when an extension finds another token or
// none (here: the store restarted empty), or, when its extensions fail, once
// the lease has certainly run out (counted from the last extension sent
// before a success, or from the acquisition).
func TestRenewalLearnsLeaseLost(t *testing.T) {
	tests := []struct {
		name  string
		fault func(w *world) func(locks.Time, *store, locks.Op[int]) fault
		// The lease ends 300ms after the acquisition reply at 2ms.
		// Extensions are due every 100ms from 102ms.
		wantExtends int
	}{
		{
			name: "extensions fail",
			fault: func(*world) func(locks.Time, *store, locks.Op[int]) fault {
				return func(_ locks.Time, _ *store, op locks.Op[int]) fault {
					if op.Kind == locks.OpExtend {
						return faultError
					}
					return faultNone
				}
			},
			wantExtends: 2, // 102 and 202ms; at 302ms the lease is gone
		},
		{
			name: "store restarted empty",
			fault: func(w *world) func(locks.Time, *store, locks.Op[int]) fault {
				w.at(at(150*ms), func() { w.store(locks.ScopeRegion, 0, 0).s.Clear() })
				return nil
			},
			wantExtends: 2, // 102ms (renewed) and 202ms (not held)
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := builtin(t, "two-level", func(i int, l *locks.Level) {
				l.LeaseTTL, l.WaitTimeout = 300*ms, 5*time.Second
			})
			cfg := defaultConfig(top, place{})
			cfg.Upstream = time.Second
			w := newWorld(t, cfg)
			w.cfg.StoreFault = tt.fault(w)
			w.request(at(0), 0, "k")
			w.run()
			w.settled(true) // the restarted store may still hold nothing
			st := w.nodes[0].m.Stats()
			if st.LeasesLost != 1 {
				t.Errorf("counted %d leases lost, want 1", st.LeasesLost)
			}
			if st.Ops[locks.OpExtend] != uint64(tt.wantExtends) {
				t.Errorf("sent %d extensions, want %d", st.Ops[locks.OpExtend], tt.wantExtends)
			}
		})
	}
}

// Compare-and-delete: a holder whose lease expired and whose lock was taken
// by another gives up (its upstream call failed) and releases with its old
// token; the store answers not-held and the new holder keeps its lock.
func TestReleaseByReplacedHolderKeepsNewLock(t *testing.T) {
	top := builtin(t, "two-level", func(i int, l *locks.Level) {
		l.LeaseTTL, l.WaitTimeout, l.NoRenew = 300*ms, 5*time.Second, true
	})
	cfg := defaultConfig(top, place{}, place{})
	boom := errors.New("upstream down")
	cfg.UpstreamFn = func(n int, _ string) (time.Duration, error) {
		if n == 1 {
			return 500 * ms, boom // fails after the lease ran out
		}
		return time.Second, nil
	}
	w := newWorld(t, cfg)
	region := w.store(locks.ScopeRegion, 0, 0)
	first := w.request(at(0), 0, "k")
	w.request(at(350*ms), 1, "k") // takes the expired lock at 351ms, calls until 1.352s
	w.runUntil(at(600 * ms))      // node 0's release (sent at 502ms) landed at 503ms
	if got := region.ops[locks.OpRelease]; got != 1 {
		t.Fatalf("%d releases reached the store, want node 0's one", got)
	}
	tok, held := region.s.Holder(w.now, "k")
	if len(region.acquisitions) != 2 || !held || tok != region.acquisitions[1].token {
		t.Fatalf("after node 0's release the lock is held by %v (%v), want node 1's %+v", tok, held, region.acquisitions)
	}
	if r := w.reply(first); !errors.Is(r.Err, boom) {
		t.Errorf("first request got %+v, want the upstream error", r)
	}
	w.run()
	w.settled(false)
}

func nonDecreasing(xs []uint64) bool {
	for i := 1; i < len(xs); i++ {
		if xs[i] < xs[i-1] {
			return false
		}
	}
	return true
}
