package locks_test

import (
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// A driver that holds one upstream function per request must know whose to
// call: EffectFetch names the request that owns the flight, which is the first
// request of a flight and, for a follower that hedged after its node-level
// wait, that follower.
func TestFetchNamesItsOwner(t *testing.T) {
	topo, err := locks.Builtin("node-only", locks.Level{WaitTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m, err := locks.NewMachine[string](locks.Config{Topology: topo})
	if err != nil {
		t.Fatal(err)
	}
	fetches := func() []locks.Fetch {
		var out []locks.Fetch
		for _, e := range m.Ready() {
			if e.Kind == locks.EffectFetch {
				out = append(out, e.Fetch)
			}
		}
		return out
	}
	var timer locks.Timer
	m.Request(0, 7, "k")
	if got := fetches(); len(got) != 1 || got[0].Owner != 7 || got[0].Cause != locks.CauseNoLock {
		t.Fatalf("first request: fetches %+v, want one owned by request 7 with cause no-lock", got)
	}
	m.Request(locks.Time(time.Millisecond), 9, "k")
	for _, e := range m.Ready() {
		if e.Kind == locks.EffectSetTimer && e.Timer.Kind == locks.TimerFollower {
			timer = e.Timer
		}
	}
	m.Fired(locks.Time(51*time.Millisecond), timer)
	if got := fetches(); len(got) != 1 || got[0].Owner != 9 || got[0].Cause != locks.CauseFollowerTimeout {
		t.Fatalf("follower timed out: fetches %+v, want one owned by request 9 with cause node-follower-timeout", got)
	}
}
