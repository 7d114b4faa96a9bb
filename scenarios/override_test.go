package scenarios

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// scalar is a YAML scalar node as a file would write text.
func scalar(text string) *yaml.Node {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		panic(err)
	}
	return n.Content[0]
}

// Every built-in goes through Apply unchanged when nothing is overridden:
// the tree of a loaded scenario, defaults written out, is that scenario.
func TestApplyNothingChangesNothing(t *testing.T) {
	for _, name := range BuiltinNames() {
		base, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Apply("point", base)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, base) {
			t.Errorf("%s: Apply without overrides changed the scenario:\n%+v\nwant\n%+v", name, got, base)
		}
	}
}

func TestApply(t *testing.T) {
	base, err := Builtin("flash-crowd")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Apply("point", base,
		Override{"workload.bursts[0].requests", scalar("316")},
		Override{"topology.nodes_per_zone", scalar("5")},
		Override{"locks.wait_timeout", scalar("250ms")},
		Override{"network.node_to_region_store.median", scalar("1ms")},
		Override{"store.service_time", scalar("7us")},
		Override{"upstream.latency", scalar("{dist: fixed, value: 20ms}")},
	)
	if err != nil {
		t.Fatal(err)
	}
	want := *base
	want.Workload.Bursts = []Burst{base.Workload.Bursts[0]}
	want.Workload.Bursts[0].Requests = 316
	want.Topology.NodesPerZone = 5
	want.Locks.WaitTimeout = Duration(250 * time.Millisecond)
	want.Network.NodeToRegionStore.Median = Duration(time.Millisecond)
	want.Store.ServiceTime = Duration(7 * time.Microsecond)
	want.Upstream.Latency = Dist{Dist: "fixed", Value: Duration(20 * time.Millisecond)}
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, &want)
	}
	if base.Workload.Bursts[0].Requests != 100000 {
		t.Errorf("Apply changed its base: %d requests", base.Workload.Bursts[0].Requests)
	}
}

// A field absent from the base, and the section it is in, are added.
func TestApplyAddsAbsentFields(t *testing.T) {
	base, err := Builtin("flash-crowd")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Apply("point", base, Override{"faults", scalar("[{kind: upstream-slowdown, factor: 2, at: 1s, for: 1s}]")},
		Override{"faults[0].factor", scalar("3")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Faults) != 1 || got.Faults[0].Factor != 3 {
		t.Errorf("faults %+v, want one slowdown by 3", got.Faults)
	}
}

// What an override makes wrong is the mistake a file would have, naming
// the field, without a line.
func TestApplyMistakes(t *testing.T) {
	base, err := Builtin("flash-crowd")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		o    Override
		want string
	}{
		{Override{"workload.bursts[0].requests", scalar("0")}, "point 3: workload.bursts[0].requests: must be at least 1, got 0"},
		{Override{"workload.bursts[0].requests", scalar("many")}, `point 3: workload.bursts[0].requests: must be an integer, got "many"`},
		{Override{"locks.wait_timeout", scalar("5")}, `point 3: locks.wait_timeout: duration "5" has no unit`},
		{Override{"workload.bursts[1].requests", scalar("5")}, "point 3: workload.bursts[1].requests: the base scenario has no workload.bursts[1]: its workload.bursts has 1 item"},
		{Override{"faults[0].at", scalar("1s")}, "point 3: faults[0].at: the base scenario has no faults[0]: it has no faults"},
		{Override{"topology.nodes", scalar("5")}, `point 3: topology.nodes: topology.nodes names no field: topology has no "nodes"`},
		{Override{"upstream.latency.value", scalar("1s")}, "point 3: upstream.latency.value: does not apply to a lognormal distribution"},
	} {
		_, err := Apply("point 3", base, tc.o)
		var e *Error
		if !errors.As(err, &e) || e.Line != 0 || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s = %s: %v (%T); want an *Error without a line, beginning %q", tc.o.Path, tc.o.Value.Value, err, err, tc.want)
		}
	}
}

// A template serves many overrides, each on the scenario as it was.
func TestTemplate(t *testing.T) {
	base, err := Builtin("flash-crowd")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := NewTemplate(base)
	if err != nil {
		t.Fatal(err)
	}
	a, err := tmpl.Apply("a", Override{"workload.bursts[0].requests", scalar("5")}, Override{"locks.lease_ttl", scalar("9s")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tmpl.Apply("b", Override{"workload.bursts[0].over", scalar("1ms")})
	if err != nil {
		t.Fatal(err)
	}
	if a.Workload.Bursts[0].Requests != 5 || a.Locks.LeaseTTL.String() != "9s" || a.Workload.Bursts[0].Over.String() != "100ms" {
		t.Errorf("a: %+v", a)
	}
	if b.Workload.Bursts[0].Requests != 100000 || b.Locks.LeaseTTL.String() != "5s" || b.Workload.Bursts[0].Over.String() != "1ms" {
		t.Errorf("b saw a's overrides: %+v", b)
	}
	c, err := tmpl.Apply("c")
	if err != nil || !reflect.DeepEqual(c, base) {
		t.Errorf("the template changed: %+v, %v", c, err)
	}
}
