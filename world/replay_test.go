package world

import (
	"context"
	"encoding/json"
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
		first, err := Run(context.Background(), sc, topo, Options{
			OnRequest: func(at time.Duration, node, key int) {
				arrivals = append(arrivals, Arrival{At: at, Node: node, Key: key})
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		again, err := Run(context.Background(), sc, topo, Options{Arrivals: arrivals})
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
		other, err := Run(context.Background(), sc, topo, Options{
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
		_, err := Run(context.Background(), sc, topo, Options{Arrivals: c.arrivals})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("arrivals %+v: error %v, want %q", c.arrivals, err, c.want)
		}
	}
	// None at all is a run without requests.
	run, err := Run(context.Background(), sc, topo, Options{Arrivals: []Arrival{}})
	if err != nil || run.Requests != 0 {
		t.Errorf("no arrivals: %d requests, error %v; want none and no error", run.Requests, err)
	}
}
