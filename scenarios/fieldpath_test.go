package scenarios

import (
	"strings"
	"testing"
)

func TestLookupField(t *testing.T) {
	for _, tc := range []struct {
		path string
		kind FieldKind
	}{
		{"workload.bursts[0].requests", FieldInt},
		{"topology.nodes_per_zone", FieldInt},
		{"locks.wait_timeout", FieldDuration},
		{"network.node_to_region_store.median", FieldDuration},
		{"network.node_to_region_store", FieldMapping},
		{"seed", FieldUint},
		{"workload.zipf_s", FieldFloat},
		{"locks.wake", FieldString},
		{"locks.renew", FieldBool},
		{"workload.bursts", FieldList},
		{"workload.bursts[3]", FieldMapping},
		{"custom_topologies[1].levels[0].wait_timeout", FieldDuration},
		{"workload.bursts[0].nodes[2]", FieldString},
	} {
		k, err := LookupField(tc.path)
		if err != nil || k != tc.kind {
			t.Errorf("LookupField(%q) = %v, %v; want %v", tc.path, k, err, tc.kind)
		}
	}
}

func TestLookupFieldMistakes(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"topology.nodes_per_zon", `topology.nodes_per_zon names no field: topology has no "nodes_per_zon" (did you mean topology.nodes_per_zone?)`},
		{"nodes_per_zone", `nodes_per_zone names no field: a scenario has no "nodes_per_zone" (did you mean topology.nodes_per_zone?)`},
		{"workload.burst[0].requests", `(did you mean workload.bursts[0].requests?)`},
		{"workload.bursts[0].request", `(did you mean workload.bursts[0].requests?)`},
		{"locks.timeout", `locks has no "timeout" (it has scope, name, lease_ttl, wait_timeout`},
		{"topology[0]", "topology is a mapping, not a list: it takes no index"},
		{"seed.x", `seed is a non-negative integer: it has no field "x"`},
		{"locks.wait_timeout.x", `locks.wait_timeout is a duration: it has no field "x"`},
		{"workload.bursts[x]", "want a list index such as [0] after bursts"},
		{"workload..keys", "a field name is missing"},
		{"", "empty field path"},
	} {
		_, err := LookupField(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LookupField(%q): %v; want it to say %q", tc.path, err, tc.want)
		}
	}
}
