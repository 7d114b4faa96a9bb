package locks

import (
	"testing"
	"time"
)

// NodeWaiters follows a key's node-level flight as requests join it, time
// out and are answered; FlightKey names the flight's key while it is in
// progress.
func TestNodeWaiters(t *testing.T) {
	level := Level{LeaseTTL: time.Second, WaitTimeout: 10 * time.Millisecond, PollInterval: time.Millisecond, OnTimeout: PolicyFail}
	for _, c := range []struct {
		topology string
		// want is NodeWaiters("k") after three requests for k and one for
		// j, after the followers' wait timed out, and after Abort ended
		// every flight.
		want [3]int
	}{
		{"node-only", [3]int{3, 1, 0}},
		{"two-level", [3]int{3, 1, 0}},
		{"none", [3]int{0, 0, 0}},
		{"one-level", [3]int{0, 0, 0}},
	} {
		t.Run(c.topology, func(t *testing.T) {
			topo, err := Builtin(c.topology, level)
			if err != nil {
				t.Fatal(err)
			}
			m, err := NewMachine[uint64](Config{Topology: topo, SharedCacheTTL: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			h := m.Request(0, 1, "k")
			m.Request(Time(time.Millisecond), 2, "k")
			m.Request(Time(2*time.Millisecond), 3, "k")
			m.Request(Time(2*time.Millisecond), 4, "j")
			if got := m.NodeWaiters("k"); got != c.want[0] {
				t.Errorf("after three requests: NodeWaiters = %d, want %d", got, c.want[0])
			}
			if got := m.NodeWaiters("j"); c.want[0] > 0 && got != 1 {
				t.Errorf("the other key: NodeWaiters = %d, want 1", got)
			}
			if key, ok := m.FlightKey(h.Flight); !ok || key != "k" {
				t.Errorf("FlightKey(the first request's flight) = %q, %v; want k, true", key, ok)
			}
			// The followers' node-level wait times out (policy fail).
			var follower *Timer
			for _, e := range m.Ready() {
				if e.Kind == EffectSetTimer && e.Timer.Kind == TimerFollower {
					follower = &e.Timer
				}
			}
			if follower != nil {
				m.Fired(Time(20*time.Millisecond), *follower)
			}
			if got := m.NodeWaiters("k"); got != c.want[1] {
				t.Errorf("after the followers' timeout: NodeWaiters = %d, want %d", got, c.want[1])
			}
			m.Ready()
			m.Abort(Time(30 * time.Millisecond))
			if got := m.NodeWaiters("k"); got != c.want[2] {
				t.Errorf("after the flights ended: NodeWaiters = %d, want %d", got, c.want[2])
			}
			if key, ok := m.FlightKey(h.Flight); ok {
				t.Errorf("FlightKey(an ended flight) = %q, true", key)
			}
		})
	}
}
