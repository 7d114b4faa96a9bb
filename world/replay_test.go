package world

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// A run given the arrivals another run reported (Options.Arrivals) is that
// run again, count for count, on every topology; another network seed
// changes the delays and nothing about the arrivals.
func TestArrivalsReplayARun(t *testing.T) {
	sc := flashCrowd(3000)
	sc.Workload.Rate = 1000
	for _, name := range []string{"none", "two-level", "one-level", "fanout-tree"} {
		topo, err := locks.Builtin(name, defaults(sc))
		if err != nil {
			t.Fatal(err)
		}
		var arrivals []Arrival
		first, err := Run(context.Background(), resolve(t, sc), topo, Options{
			OnRequest: func(at time.Duration, node, key int) {
				arrivals = append(arrivals, Arrival{At: at, Node: node, Key: key})
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		again, err := Run(context.Background(), resolve(t, sc), topo, Options{Arrivals: arrivals})
		if err != nil {
			t.Fatal(err)
		}
		first.WallSeconds, again.WallSeconds = 0, 0
		a, _ := json.Marshal(first)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Errorf("%s: the replay differs:\n%s\n%s", name, a, b)
		}

		var reseeded []Arrival
		other, err := Run(context.Background(), resolve(t, sc), topo, Options{
			NetworkSeed: 99,
			OnRequest: func(at time.Duration, node, key int) {
				reseeded = append(reseeded, Arrival{At: at, Node: node, Key: key})
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(reseeded) != len(arrivals) {
			t.Fatalf("%s: %d arrivals with another network seed, %d without", name, len(reseeded), len(arrivals))
		}
		for i := range arrivals {
			if reseeded[i] != arrivals[i] {
				t.Fatalf("%s: arrival %d is %+v with another network seed, %+v without", name, i, reseeded[i], arrivals[i])
			}
		}
		if name != "none" && other.LatencyMs == first.LatencyMs {
			t.Errorf("%s: another network seed left the latencies as they were: %+v", name, other.LatencyMs)
		}
	}
}

func TestArrivalsAreChecked(t *testing.T) {
	sc := flashCrowd(10)
	topo, err := locks.Builtin("two-level", defaults(sc))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		arrivals []Arrival
		want     string
	}{
		{[]Arrival{{At: -time.Millisecond}}, "Options.Arrivals[0]: at -1ms, before the start"},
		{[]Arrival{{At: 2 * time.Millisecond}, {At: time.Millisecond}}, "Options.Arrivals[1]: at 1ms, before the previous one's 2ms"},
		{[]Arrival{{Node: 30}}, "Options.Arrivals[0]: node 30 is not one of the 30 nodes"},
		{[]Arrival{{Key: -1}}, "Options.Arrivals[0]: key -1 is not one of the 100 keys"},
	} {
		_, err := Run(context.Background(), resolve(t, sc), topo, Options{Arrivals: c.arrivals})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("arrivals %+v: error %v, want %q", c.arrivals, err, c.want)
		}
	}
	// None at all is a run without requests.
	run, err := Run(context.Background(), resolve(t, sc), topo, Options{Arrivals: []Arrival{}})
	if err != nil || run.Requests != 0 {
		t.Errorf("no arrivals: %d requests, error %v; want none and no error", run.Requests, err)
	}
}

// Options.NetworkDelay replaces the network's latencies: with every message
// to and from the store taking 7ms, a one-level request waits two of them at
// least, and the function is asked at the times the messages leave.
func TestNetworkDelayReplacesTheLatencies(t *testing.T) {
	sc := flashCrowd(500)
	topo, err := locks.Builtin("one-level", defaults(sc))
	if err != nil {
		t.Fatal(err)
	}
	var asked []time.Duration
	nodes := map[int]bool{}
	run, err := Run(context.Background(), resolve(t, sc), topo, Options{NetworkDelay: func(at time.Duration, node int, _ *rand.Rand) time.Duration {
		asked = append(asked, at)
		nodes[node] = true
		return 7 * time.Millisecond
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != sc.Shape().Nodes() {
		t.Errorf("delays asked for %d nodes, want all %d", len(nodes), sc.Shape().Nodes())
	}
	if run.LatencyMs.P50 < 14 || len(asked) < int(run.StoreOps) {
		t.Errorf("latency p50 %vms after %d delays for %d operations; want at least 14ms and a delay each way", run.LatencyMs.P50, len(asked), run.StoreOps)
	}
	first := sc.Workload.Bursts[0].At.D()
	for i, at := range asked {
		if at < first || (i > 0 && at < asked[i-1]) {
			t.Fatalf("delay %d asked at %v, after %v: want the times messages leave, from the burst on", i, at, asked[max(0, i-1)])
		}
	}
}
