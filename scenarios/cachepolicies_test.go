package scenarios

import "testing"

// A custom topology's ttl_jitter and xfetch_beta replace the cache block's
// for it alone; an explicit 0 turns them off; every other topology keeps
// the cache block's.
func TestCachePolicies(t *testing.T) {
	sc, err := Parse("policies.yaml", []byte(`
duration: 10s
topology: {regions: 1, zones_per_region: 1, nodes_per_zone: 3}
upstream: {latency: {dist: fixed, value: 100ms}}
cache: {ttl_jitter: 0.1, xfetch_beta: 1}
workload: {keys: 10, zipf_s: 1.1, rate: 100}
custom_topologies:
  - name: both
    ttl_jitter: 0.4
    xfetch_beta: 2
    levels: [{scope: node}, {scope: region}]
  - name: off
    ttl_jitter: 0
    xfetch_beta: 0
    levels: [{scope: region}]
  - name: inherits
    levels: [{scope: region}]
topologies: [two-level, both, off, inherits]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		jitter, beta float64
	}{
		{"two-level", 0.1, 1},
		{"both", 0.4, 2},
		{"off", 0, 0},
		{"inherits", 0.1, 1},
	} {
		if j, b := sc.CachePolicies(tc.name); j != tc.jitter || b != tc.beta {
			t.Errorf("%s: ttl_jitter %v, xfetch_beta %v; want %v, %v", tc.name, j, b, tc.jitter, tc.beta)
		}
	}
}
