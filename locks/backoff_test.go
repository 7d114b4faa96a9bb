package locks_test

import (
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// While a lock is held for a long time, a waiter in poll mode reads it every
// poll interval, but a subscribed waiter in notify mode only polls as a
// safety net, backing off (10ms, 20ms, 40ms, ...): the notification is what
// wakes it. Over a holder's 1.3s upstream call, with a 10ms poll interval,
// that is ~130 reads against ~8.
func TestNotifyModeBacksOffItsSafetyPolls(t *testing.T) {
	for _, tc := range []struct {
		wake      locks.Wake
		min, max_ int
	}{
		{locks.WakePoll, 100, 140},
		{locks.WakeNotify, 6, 10},
	} {
		t.Run(tc.wake.String(), func(t *testing.T) {
			topo := builtin(t, "two-level", func(_ int, l *locks.Level) {
				l.Wake, l.PollInterval, l.WaitTimeout, l.LeaseTTL = tc.wake, 10*ms, 5*time.Second, 5*time.Second
			})
			cfg := defaultConfig(topo, place{}, place{})
			cfg.Upstream = 1300 * ms
			w := newWorld(t, cfg)
			w.request(at(0), 0, "k")
			waiter := w.request(at(10*ms), 1, "k")
			w.run()
			w.settled(false)
			reads := w.nodeOps(1)[locks.OpReadOrAcquire]
			if reads < tc.min || reads > tc.max_ {
				t.Errorf("the waiter read the lock %d times, want %d to %d", reads, tc.min, tc.max_)
			}
			if got := w.reply(waiter); got.Served != locks.ServedCollapsed {
				t.Errorf("waiter served %s, want collapsed", got.Served)
			}
		})
	}
}
