package locks_test

import (
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// A waiter makes a last check after subscribing only when its read may have
// been served before the subscription stood. With one-level (no node level:
// every request is its own flight), node 1's first flight reads at 10ms
// (held) and subscribes; its read came first, so it checks once more. A
// second flight reading at 30ms, after the subscription was confirmed, needs
// no such check: its read reached the store after the store registered the
// subscription, so the release will be announced to it.
func TestNoLastCheckAfterSubscriptionStands(t *testing.T) {
	topo := builtin(t, "one-level", func(_ int, l *locks.Level) { l.Wake, l.PollInterval = locks.WakeNotify, time.Second })
	w := newWorld(t, defaultConfig(topo, place{}, place{}))
	w.request(at(0), 0, "k")
	first := w.request(at(10*ms), 1, "k")
	second := w.request(at(30*ms), 1, "k")
	w.run()
	w.settled(false)
	// first: read (held), last check (held), read on release (value);
	// second: read (held), read on release (value).
	want := map[locks.OpKind]int{locks.OpReadOrAcquire: 5, locks.OpSubscribe: 1, locks.OpUnsubscribe: 1}
	if got := w.nodeOps(1); !sameCounts(got, want) {
		t.Errorf("node 1 sent %v, want %v", got, want)
	}
	for _, id := range []locks.ReqID{first, second} {
		if got := w.reply(id); got.Served != locks.ServedCollapsed {
			t.Errorf("request %d served %s, want collapsed", id, got.Served)
		}
	}
}
