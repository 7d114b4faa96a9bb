package scenarios

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stampsim/stampsim/locks"
)

// badCase is one file of testdata/bad: its first line says what the error
// must say ("# want: field: message"), and a "# <-" comment marks the line
// the error must point at (none: the error has no line).
type badCase struct {
	path string
	want string
	line int
}

func readBadCase(t *testing.T, path string) badCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := badCase{path: path}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if w, ok := strings.CutPrefix(text, "# want: "); ok && n == 1 {
			c.want = w
		}
		if strings.HasSuffix(text, "# <-") {
			c.line = n
		}
	}
	if c.want == "" {
		t.Fatalf("%s: first line must be \"# want: field: message\"", path)
	}
	return c
}

func TestBadInputs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, path := range files {
		c := readBadCase(t, path)
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			s, err := Load(path)
			if err == nil {
				t.Fatalf("loaded without error: %+v", s)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is %T, want *Error: %v", err, err)
			}
			if e.File != path {
				t.Errorf("File = %q, want %q", e.File, path)
			}
			if e.Line != c.line {
				t.Errorf("Line = %d, want %d (marked # <-)\nerror: %v", e.Line, c.line, err)
			}
			if e.Field != "" && !strings.HasPrefix(c.want, e.Field+": ") {
				t.Errorf("Field = %q, want the field that starts %q", e.Field, c.want)
			}
			loc := path + ": "
			if c.line > 0 {
				loc = fmt.Sprintf("%s:%d: ", path, c.line)
			}
			if got := err.Error(); !strings.HasPrefix(got, loc) || !strings.Contains(got, c.want) {
				t.Errorf("error:\n  %s\nwant it to start %q and contain:\n  %s", got, loc, c.want)
			}
		})
	}
}

// minimal is the smallest valid scenario: only what has no default.
const minimal = `
duration: 10s
topology: {regions: 2, zones_per_region: 2, nodes_per_zone: 3}
upstream: {latency: {dist: fixed, value: 100ms}}
workload: {keys: 1, rate: 100}
`

func TestDefaults(t *testing.T) {
	s, err := Parse("min.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	want := &Scenario{
		Name:     "min",
		Seed:     1,
		Duration: Duration(10 * time.Second),
		Topology: World{2, 2, 3},
		Network: Network{
			NodeToZoneStore:   Dist{Dist: "lognormal", Median: Duration(300 * time.Microsecond), P99: Duration(2 * time.Millisecond)},
			NodeToRegionStore: Dist{Dist: "lognormal", Median: Duration(500 * time.Microsecond), P99: Duration(3 * time.Millisecond)},
			NodeToGlobalStore: Dist{Dist: "lognormal", Median: Duration(40 * time.Millisecond), P99: Duration(120 * time.Millisecond)},
		},
		Store:    Store{ServiceTime: DefaultServiceTime, OpOverhead: DefaultOpOverhead, ConnectTimeout: Duration(time.Second)},
		Upstream: Upstream{Latency: Dist{Dist: "fixed", Value: Duration(100 * time.Millisecond)}},
		Cache:    Cache{NodeTTL: Duration(10 * time.Second), SharedTTL: Duration(10 * time.Second)},
		Workload: Workload{Keys: 1, Rate: 100},
		Locks: LockLevel{
			LeaseTTL: Duration(5 * time.Second), WaitTimeout: Duration(3 * time.Second),
			OnTimeout: "invoke", Wake: "notify", PollInterval: Duration(20 * time.Millisecond), Renew: &yes,
		},
		Topologies: []string{"none", "node-only", "one-level", "two-level", "global", "fanout-tree"},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", s, want)
	}
}

// Explicit values, zero included, win over defaults.
func TestExplicitValuesKept(t *testing.T) {
	s, err := Parse("x.yaml", []byte(minimal+`
name: mine
seed: 0
cache: {node_ttl: 0s, shared_ttl: 1s}
store: {service_time: 0s}
locks: {renew: false, on_timeout: stale}
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "mine" || s.Seed != 0 || s.Cache.NodeTTL != 0 || s.Cache.SharedTTL != Duration(time.Second) ||
		s.Store.ServiceTime != 0 || *s.Locks.Renew || s.Locks.OnTimeout != "stale" {
		t.Errorf("explicit values lost: %+v", s)
	}
}

func TestDurationText(t *testing.T) {
	for _, c := range []struct {
		text string
		want time.Duration
		err  string
	}{
		{"300us", 300 * time.Microsecond, ""},
		{"300µs", 300 * time.Microsecond, ""},
		{"1m30s", 90 * time.Second, ""},
		{"5050ms", 5050 * time.Millisecond, ""},
		{"5", 0, `duration "5" has no unit: write e.g. 5s or 5ms`},
		{"2.5", 0, "has no unit"},
		{"5 s", 0, `duration "5 s" does not parse`},
		{"soon", 0, "does not parse"},
		{"", 0, "empty duration"},
	} {
		d, err := ParseDuration(c.text)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseDuration(%q) error = %v, want %q", c.text, err, c.err)
			}
			continue
		}
		if err != nil || d.D() != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", c.text, d, err, c.want)
		}
		if back, err := ParseDuration(d.String()); err != nil || back != d {
			t.Errorf("%q: String %q does not parse back: %v, %v", c.text, d.String(), back, err)
		}
	}
	if got := Duration(300 * time.Microsecond).String(); got != "300us" {
		t.Errorf("String() = %q, want 300us (ASCII)", got)
	}
}

func TestDurationMarshal(t *testing.T) {
	y, err := yaml.Marshal(struct{ D Duration }{Duration(1500 * time.Millisecond)})
	if err != nil || string(y) != "d: 1.5s\n" {
		t.Errorf("YAML = %q, %v; want \"d: 1.5s\\n\"", y, err)
	}
	var d Duration
	if err := d.UnmarshalJSON([]byte(`"250us"`)); err != nil || d != Duration(250*time.Microsecond) {
		t.Errorf("UnmarshalJSON = %v, %v", d, err)
	}
	if b, err := d.MarshalJSON(); err != nil || string(b) != `"250us"` {
		t.Errorf("MarshalJSON = %s, %v", b, err)
	}
	if err := d.UnmarshalJSON([]byte(`250`)); err == nil {
		t.Error("UnmarshalJSON accepted a bare number")
	}
}

// A scenario written back as YAML reads back as the same scenario: what
// `stampsim scenarios show` prints and what results files embed can be
// replayed.
func TestRoundTrip(t *testing.T) {
	inputs := map[string][]byte{"minimal.yaml": []byte(minimal)}
	for _, name := range BuiltinNames() {
		src, err := BuiltinSource(name)
		if err != nil {
			t.Fatal(err)
		}
		inputs[name+".yaml"] = src
	}
	good, _ := filepath.Glob("testdata/good/*.yaml")
	for _, path := range good {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(path)] = data
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			s1, err := Parse(name, data)
			if err != nil {
				t.Fatal(err)
			}
			out, err := yaml.Marshal(s1)
			if err != nil {
				t.Fatal(err)
			}
			s2, err := Parse("again-"+name, out)
			if err != nil {
				t.Fatalf("marshalled scenario does not parse: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(s1, s2) {
				t.Errorf("round trip changed the scenario:\nfirst  %+v\nsecond %+v\nYAML:\n%s", s1, s2, out)
			}
		})
	}
}

func TestBuiltins(t *testing.T) {
	names := BuiltinNames()
	for _, want := range []string{"cdn-steady-day", "flash-crowd", "holder-pause", "region-store-outage"} {
		if !containsString(names, want) {
			t.Errorf("BuiltinNames() = %v, missing %q", names, want)
		}
	}
	if !containsString(names, DefaultBuiltin) {
		t.Errorf("default %q is not a built-in", DefaultBuiltin)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != name {
				t.Errorf("name %q differs from its file name %q", s.Name, name)
			}
			if s.Description == "" || strings.Contains(s.Description, "\n") {
				t.Errorf("description %q: want one line", s.Description)
			}
			// The file on disk is the embedded one.
			disk, err := Load(filepath.Join("builtin", name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(disk, s) {
				t.Error("file on disk and embedded built-in differ")
			}
			for _, topo := range s.Topologies {
				lt, err := s.Resolve(topo)
				if err != nil {
					t.Errorf("Resolve(%q): %v", topo, err)
					continue
				}
				if err := lt.Validate(); err != nil {
					t.Errorf("Resolve(%q) gave an invalid topology: %v", topo, err)
				}
			}
		})
	}
	_, err := Builtin("flash-crwod")
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), `did you mean "flash-crowd"?`) {
		t.Errorf("Builtin(typo) error = %v, want a *NotFoundError with a suggestion", err)
	}
	if _, err := Builtin("../scenarios"); err == nil {
		t.Error("Builtin accepted a path")
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestResolve(t *testing.T) {
	s, err := Parse("r.yaml", []byte(minimal+`
locks: {lease_ttl: 4s, wait_timeout: 2s, on_timeout: fail, wake: poll, poll_interval: 10ms}
custom_topologies:
  - name: mine
    levels:
      - {scope: node, wait_timeout: 500ms}
      - {scope: region, name: metro, lease_ttl: 1s, renew: false, on_timeout: stale, wake: notify}
`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Resolve("mine")
	if err != nil {
		t.Fatal(err)
	}
	want := locks.Topology{Name: "mine", Levels: []locks.Level{
		{Scope: locks.ScopeNode, LeaseTTL: 4 * time.Second, WaitTimeout: 500 * time.Millisecond, OnTimeout: locks.PolicyFail, Wake: locks.WakePoll, PollInterval: 10 * time.Millisecond},
		{Name: "metro", Scope: locks.ScopeRegion, LeaseTTL: time.Second, WaitTimeout: 2 * time.Second, OnTimeout: locks.PolicyStale, Wake: locks.WakeNotify, PollInterval: 10 * time.Millisecond, NoRenew: true},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Resolve(mine):\n got %+v\nwant %+v", got, want)
	}
	two, err := s.Resolve("two-level")
	if err != nil {
		t.Fatal(err)
	}
	if len(two.Levels) != 2 || two.Levels[1].Scope != locks.ScopeRegion || two.Levels[1].LeaseTTL != 4*time.Second ||
		two.Levels[1].OnTimeout != locks.PolicyFail || two.Levels[1].Wake != locks.WakePoll {
		t.Errorf("Resolve(two-level) = %+v, want the locks block on both levels", two)
	}
	if _, err := s.Resolve("mesh"); err == nil || !strings.Contains(err.Error(), "custom: mine") {
		t.Errorf("Resolve(unknown) error = %v, want one listing the custom names", err)
	}
	if got := s.TopologyNames(); len(got) != 7 || got[6] != "mine" {
		t.Errorf("TopologyNames() = %v", got)
	}
	if sh := s.Shape(); sh.Nodes() != 12 {
		t.Errorf("Shape().Nodes() = %d, want 12", sh.Nodes())
	}
}

// Anchors and aliases work, and one that contains itself is an error, not
// a hang.
func TestAliases(t *testing.T) {
	s, err := Parse("a.yaml", []byte(`
duration: 10s
topology: {regions: 1, zones_per_region: 1, nodes_per_zone: 1}
network:
  node_to_zone_store: &fast {dist: fixed, value: 1ms}
  node_to_region_store: *fast
upstream: {latency: *fast}
workload: {keys: 1, rate: 10}
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Upstream.Latency.Value != Duration(time.Millisecond) || s.Network.NodeToRegionStore.Dist != "fixed" {
		t.Errorf("aliases not followed: %+v", s)
	}
	_, err = Parse("loop.yaml", []byte("faults: &f [*f]\n"))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("self-containing alias: error %v (%T), want *Error", err, err)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"regions", "zones_per_region", "nodes_per_zone"}
	for in, want := range map[string]string{
		"regoins": "regions", "region": "regions", "zonesPerRegion": "zones_per_region",
		"nodes-per-zone": "nodes_per_zone", "colour": "",
	} {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
