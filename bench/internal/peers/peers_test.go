package peers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/real/redistest"
)

// small is a configuration that runs every case in a few seconds.
func small() Config {
	return Config{
		Repeats: 1, UncontendedCalls: 20,
		Stampedes: []StampedeSize{{30, 3}},
		Upstream:  30 * time.Millisecond, Limit: 10 * time.Second,
		DeadInstances: 3, DeadWaiters: 6, DeadSettings: []string{"tuned"},
		ZipfCalls: 200, ZipfWorkers: 4, ZipfInstances: 2, ZipfKeys: 100, ZipfUpstream: time.Millisecond,
	}
}

// TestPeersDoWhatTheySay runs every unit of a small configuration against
// redis-server and checks what each peer is known to do: the round trips of
// an uncontended miss, one upstream call per stampede for a peer with a lock
// across instances and one per instance for the in-process ones, and that a
// dead holder's lock lets the others through.
func TestPeersDoWhatTheySay(t *testing.T) {
	srv := redistest.StartT(t)
	c := small()
	trips := map[string]float64{ // per uncontended miss
		"stampsim": 2, "redislock-linear": 4, "redislock-exponential": 4, "singleflight+redislock": 4,
		"redsync": 4, "go-redis/cache": 2, "sturdyc/default": 0, "sturdyc/tuned": 2,
	}
	seen := map[string]bool{}
	for _, u := range c.Units(0) {
		if u.Case == "zipf" && u.Peer.Setting == "default" {
			continue // the tuned ones cover the case; this keeps the test short
		}
		if u.Case == "stampede" && u.Peer.Setting == "default" && u.Peer.Polling {
			continue // 100ms and more between polls: slow, and the tuned ones cover it
		}
		t.Run(u.Key, func(t *testing.T) {
			m, err := Run(context.Background(), c, u, srv.Addr, 0)
			if err != nil {
				t.Fatal(err)
			}
			seen[u.Case] = true
			if m["ping_ns"] <= 0 || m["errors"] != 0 {
				t.Errorf("ping_ns %v, errors %v", m["ping_ns"], m["errors"])
			}
			inProcess := u.Peer.Name == "go-redis/cache" || u.Peer.Name == "sturdyc"
			switch u.Case {
			case "uncontended":
				want, ok := trips[u.Peer.ID()]
				if !ok {
					want = trips[u.Peer.Name]
				}
				if got := m["round_trips"] / m["calls"]; got != want {
					t.Errorf("round trips per miss %v, want %v", got, want)
				}
				if m["upstream_calls"] != m["calls"] {
					t.Errorf("upstream calls %v for %v misses", m["upstream_calls"], m["calls"])
				}
			case "stampede":
				// stampsim reads and acquires in one script: one call. The
				// hand-made patterns read, then lock: a caller that read
				// before the holder wrote and locks after it released calls
				// again, so they may make a few. The in-process peers call
				// once per instance.
				lo, hi := 1.0, 1.0
				switch {
				case inProcess:
					lo, hi = float64(u.Instances), float64(u.Instances)
				case u.Peer.Name != "stampsim":
					hi = float64(u.Instances)
				}
				if got := m["upstream_calls"]; got < lo || got > hi {
					t.Errorf("upstream calls %v, want %v to %v", got, lo, hi)
				}
				if m["last_ns"] < float64(c.Upstream.Nanoseconds()) {
					t.Errorf("the last caller had its value after %vns, before the upstream could answer", m["last_ns"])
				}
				if (m["redis_commands"] == 0) != (u.Peer.ID() == "sturdyc/default") {
					t.Errorf("redis_commands %v", m["redis_commands"])
				}
			case "dead-holder":
				if _, ok := m["proceed_ns"]; !ok {
					t.Fatalf("nobody proceeded: %v", m)
				}
				if !inProcess && m["proceed_ns"] < float64(tunedLease.Nanoseconds())/2 {
					t.Errorf("proceeded after %vns, before the dead holder's lock could expire", m["proceed_ns"])
				}
			case "zipf":
				if m["calls_per_s"] <= 0 || m["upstream_calls"] == 0 || m["upstream_calls"] > 100*float64(c.ZipfInstances) {
					t.Errorf("calls_per_s %v, upstream calls %v", m["calls_per_s"], m["upstream_calls"])
				}
			}
		})
	}
	for _, cs := range []string{"uncontended", "stampede", "dead-holder", "zipf"} {
		if !seen[cs] {
			t.Errorf("no unit of case %s ran", cs)
		}
	}
}

func TestUnitsInterleave(t *testing.T) {
	c := Full()
	a, b := c.Units(0), c.Units(1)
	if len(a) != len(b) || a[0].Peer.ID() == b[0].Peer.ID() {
		t.Fatalf("repeat 1 should rotate the peers: %s then %s", a[0].Key, b[0].Key)
	}
	keys := c.AllUnits()
	if len(keys) != c.Repeats*len(a) || !strings.HasSuffix(keys[len(keys)-1], "#4") {
		t.Fatalf("AllUnits: %d keys, last %q", len(keys), keys[len(keys)-1])
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Fatalf("unit %s twice", k)
		}
		seen[k] = true
	}
}
