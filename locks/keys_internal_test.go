package locks

import (
	"fmt"
	"testing"
	"time"
)

// The key table (Machine.keys) holds the node cache and the node-level
// flights. It must stay proportional to the keys in use, not to
// every key the machine has ever seen, and a key must be forgotten only
// when no flight uses it.
func TestKeyTableForgetsUnusableKeys(t *testing.T) {
	for _, tc := range []struct {
		topology string
		nodeTTL  time.Duration
		// most is the most keys the table may hold while 100,000 distinct
		// keys go through it, one every millisecond.
		most int
	}{
		// Cached values live 10ms, so about 10 keys are in use at once;
		// the table is swept once it has taken in as many values as the
		// last sweep kept, and at least sweepMin.
		{"none", 10 * time.Millisecond, 2 * sweepMin},
		{"node-only", 10 * time.Millisecond, 2 * sweepMin},
		// Nothing is cached: a key is forgotten as soon as its flight ends
		// (and none keeps no flights in the table).
		{"none", 0, 0},
		{"node-only", 0, 1},
	} {
		t.Run(fmt.Sprintf("%s/node_ttl=%v", tc.topology, tc.nodeTTL), func(t *testing.T) {
			topo, err := Builtin(tc.topology, Level{LeaseTTL: time.Second, WaitTimeout: time.Second, PollInterval: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			m, err := NewMachine[int](Config{Topology: topo, NodeCacheTTL: tc.nodeTTL})
			if err != nil {
				t.Fatal(err)
			}
			peak := 0
			for i := range 100_000 {
				now := Time(i) * Time(time.Millisecond)
				key := fmt.Sprintf("k%d", i)
				m.Request(now, ReqID(2*i), key)
				m.Request(now, ReqID(2*i+1), key) // a follower with node-only
				var fetches []FlightID
				for _, e := range m.Ready() {
					if e.Kind == EffectFetch {
						fetches = append(fetches, e.Fetch.Flight)
					}
				}
				if len(fetches) == 0 {
					t.Fatalf("request %d: no upstream call", i)
				}
				for _, f := range fetches {
					m.Fetched(now, f, i, nil)
				}
				m.Ready()
				peak = max(peak, m.keys.held())
			}
			if peak > tc.most {
				t.Errorf("the table held up to %d keys, want at most %d", peak, tc.most)
			}
			if m.InFlight() != 0 {
				t.Errorf("%d flights still in progress", m.InFlight())
			}
		})
	}
}

// A key whose flight is still waiting is never forgotten, however many
// other keys come and go meanwhile, and its cached value then serves hits.
func TestKeyTableKeepsKeysInUse(t *testing.T) {
	topo, err := Builtin("node-only", Level{LeaseTTL: time.Second, WaitTimeout: time.Hour, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMachine[int](Config{Topology: topo, NodeCacheTTL: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m.Request(0, 1, "slow")
	slow := m.Ready()[0].Fetch.Flight
	for i := range 10_000 { // enough new keys for several sweeps
		now := Time(i+1) * Time(time.Millisecond)
		m.Request(now, ReqID(10+i), fmt.Sprintf("k%d", i))
		f := m.Ready()[0].Fetch.Flight
		m.Fetched(now, f, i, nil)
		m.Ready()
	}
	now := Time(20_000 * time.Millisecond)
	m.Request(now, 2, "slow") // joins the flight still waiting
	m.Fetched(now, slow, 42, nil)
	var replies int
	for _, e := range m.Ready() {
		if e.Kind == EffectReply {
			for r := range e.Replies {
				if r.Value != 42 || r.Key != "slow" {
					t.Errorf("reply %+v, want value 42 for slow", r)
				}
				replies++
			}
		}
	}
	if replies != 2 {
		t.Errorf("%d replies, want 2", replies)
	}
	m.Request(now, 3, "slow")
	if e := m.Ready(); len(e) != 1 || e[0].Kind != EffectReply || e[0].Reply.Served != ServedHit || e[0].Reply.Value != 42 {
		t.Errorf("a request after the fetch got %+v, want a node-cache hit with 42", e)
	}
}
