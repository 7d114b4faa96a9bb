package budget

import (
	"strings"
	"testing"

	"github.com/stampsim/stampsim/reports"
)

// The series' memory follows the step, up to the cap on samples, and the
// results document holds every run's series so far.
func TestSeriesMemory(t *testing.T) {
	const hour = `
duration: 1h
topology: {regions: 1, zones_per_region: 1, nodes_per_zone: 2}
upstream: {latency: {dist: fixed, value: 20ms}}
workload: {keys: 1, rate: 1}
topologies: [two-level, fanout-tree]
`
	for _, c := range []struct {
		step    string
		samples float64 // per series
	}{
		{"", 733}, // the default for 1h, 5s, over 3660s with the drain
		{"series_step: 1s\n", 3661},
		{"series_step: 100ms\n", 36601},
		{"series_step: 10ms\n", reports.MaxSeriesSamples}, // 366,001, capped
		{"series_step: 1ms\n", reports.MaxSeriesSamples},
	} {
		sc := parse(t, hour+c.step)
		off, on := estimate(t, sc, false), estimate(t, sc, true)
		// two-level: 14 series, 2 levels, 1 store scope; fanout-tree: 14,
		// 4 levels, 3 store scopes.
		two := c.samples * 18 * seriesValueBytes
		fanout := c.samples * 24 * seriesValueBytes
		if got := on.Runs[0].seriesBytes; got != two {
			t.Errorf("%q: two-level series %s, want %s", c.step, Bytes(got), Bytes(two))
		}
		if got := on.Runs[1].seriesBytes; got != two+fanout {
			t.Errorf("%q: fanout-tree after two-level: series %s, want %s", c.step, Bytes(got), Bytes(two+fanout))
		}
		for i := range on.Runs {
			if d := on.Runs[i].MemoryBytes - off.Runs[i].MemoryBytes; d != on.Runs[i].seriesBytes || off.Runs[i].seriesBytes != 0 {
				t.Errorf("%q: %s: series add %s to the estimate, want %s", c.step, on.Runs[i].Topology, Bytes(d), Bytes(on.Runs[i].seriesBytes))
			}
		}
	}
}

// A run whose series would take most of the memory is refused naming
// series_step.
func TestSeriesRefused(t *testing.T) {
	sc := parse(t, `
duration: 24h
series_step: 1ms
topology: {regions: 1, zones_per_region: 1, nodes_per_zone: 2}
upstream: {latency: {dist: fixed, value: 20ms}}
workload: {keys: 1, rate: 0.01}
`)
	lim := fixedLimits
	lim.Memory = 300e6
	vs := estimate(t, sc, true).Check(lim, flags)
	if len(vs) != 1 || vs[0].Field != "series_step" ||
		!strings.Contains(vs[0].Msg, "the series of 24h in steps of 1ms, 100000 samples each (at most 100000) for every topology so far") {
		t.Errorf("violations %+v", vs)
	}
	if vs := estimate(t, sc, false).Check(lim, flags); len(vs) != 0 {
		t.Errorf("without the series: violations %+v", vs)
	}
}
