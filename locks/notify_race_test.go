package locks_test

import (
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// A release announced while a waiter's read is on its way may reach the node
// before that read's "held" reply (they travel on different connections):
// the waiter must read again at once, not sleep until its next poll.
func TestNotificationDuringReadIsNotLost(t *testing.T) {
	topo, err := locks.Builtin("one-level", locks.Level{LeaseTTL: time.Second, WaitTimeout: 5 * time.Second, PollInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m, err := locks.NewMachine[string](locks.Config{Topology: topo, SharedCacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ops := func(kind locks.OpKind) []locks.Op[string] {
		var out []locks.Op[string]
		for _, e := range m.Ready() {
			if e.Kind == locks.EffectStore && e.Op.Kind == kind {
				out = append(out, e.Op)
			}
		}
		return out
	}
	ms := func(n int) locks.Time { return locks.Time(time.Duration(n) * time.Millisecond) }
	held := locks.Result[string]{Status: locks.StatusHeld, TTL: time.Second}

	m.Request(0, 1, "k")
	first := ops(locks.OpReadOrAcquire)
	m.StoreDone(ms(1), first[0], held)
	sub := ops(locks.OpSubscribe)
	if len(sub) != 1 {
		t.Fatalf("a waiter in notify mode subscribes: got %d subscriptions", len(sub))
	}
	m.StoreDone(ms(2), sub[0], locks.Result[string]{Status: locks.StatusOK})
	last := ops(locks.OpReadOrAcquire) // the last check, on its way
	if len(last) != 1 {
		t.Fatalf("the subscription confirmed: got %d reads, want the last check", len(last))
	}
	m.Notified(ms(3), locks.ScopeRegion, "k")
	if got := ops(locks.OpReadOrAcquire); len(got) != 0 {
		t.Fatalf("a notification during a read sends no second read: got %d", len(got))
	}
	m.StoreDone(ms(4), last[0], held) // the read ran before the release
	if got := ops(locks.OpReadOrAcquire); len(got) != 1 {
		t.Errorf("after a notification, a 'held' reply is read again at once: got %d reads, want 1", len(got))
	}
}
