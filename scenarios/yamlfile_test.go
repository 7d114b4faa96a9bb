package scenarios

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// recipe is a file of another kind than a scenario, decoded the way
// scenario files are.
type recipe struct {
	Name  string    `yaml:"name"`
	Steps []step    `yaml:"steps"`
	Extra yaml.Node `yaml:"extra"`
}

type step struct {
	Wait  Duration `yaml:"wait"`
	Times int      `yaml:"times"`
}

var recipeFile = FileKind{Noun: "recipe", Guide: "RECIPES.md"}

func TestDecodeFile(t *testing.T) {
	data := "name: bread\nsteps:\n  - {wait: 1h, times: 2}\nextra: {anything: [goes, 1]}\n"
	var r recipe
	pos, err := DecodeFile("bread.yaml", []byte(data), recipeFile, &r)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "bread" || len(r.Steps) != 1 || r.Steps[0].Wait != Duration(time.Hour) || r.Steps[0].Times != 2 {
		t.Errorf("decoded %+v", r)
	}
	if r.Extra.Kind != yaml.MappingNode || pos.Line("extra") != 4 || pos.Line("steps[0].times") != 3 || !pos.Has("steps[0].wait") || pos.Has("steps[0]") && !pos.Has("steps") {
		t.Errorf("extra %v, positions %+v", r.Extra.Kind, pos)
	}
}

func TestDecodeFileMistakes(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"name: bread\nstep: []\n", `bread.yaml:2: step: unknown field (did you mean "steps"?)`},
		{"steps:\n  - {wait: 5, times: x}\n", "bread.yaml:2: steps[0].wait: duration \"5\" has no unit: write e.g. 5s or 5ms\n" +
			`bread.yaml:2: steps[0].times: must be an integer, got "x"`},
		{"", "bread.yaml: empty document: a recipe is a YAML mapping (see RECIPES.md)"},
		{"[1]", "bread.yaml:1: a recipe is a YAML mapping, got a list"},
		{"a: 1\n---\nb: 2\n", "bread.yaml:2: more than one YAML document: a file holds one recipe"},
		{"name: [\n", "bread.yaml:1: did not find expected node content"},
	} {
		var r recipe
		_, err := DecodeFile("bread.yaml", []byte(tc.data), recipeFile, &r)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: %v; want it to begin %q", tc.data, err, tc.want)
		}
	}
}

// A scenario written inside another file is checked as a file of its own,
// and its mistakes give the lines of the file it is in.
func TestParseNode(t *testing.T) {
	data := "sweep: x\nbase:\n  duration: 5s\n  topology: {regions: 1, zones_per_region: 1, nodes_per_zone: 1}\n" +
		"  upstream: {latency: {dist: fixed, value: 1ms}}\n  workload: {keys: 1, rate: -1}\n"
	var doc struct {
		Sweep string    `yaml:"sweep"`
		Base  yaml.Node `yaml:"base"`
	}
	if err := yaml.Unmarshal([]byte(data), &doc); err != nil {
		t.Fatal(err)
	}
	_, _, err := ParseNode("sweep.yaml", &doc.Base)
	if want := "sweep.yaml:6: workload.rate: must not be negative, got -1"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	doc.Base.Content[len(doc.Base.Content)-1] = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "keys"}, {Kind: yaml.ScalarNode, Tag: "!!int", Value: "1"},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "rate"}, {Kind: yaml.ScalarNode, Tag: "!!int", Value: "5"},
	}}
	s, pos, err := ParseNode("sweep.yaml", &doc.Base)
	if err != nil || s.Workload.Rate != 5 || pos.Line("duration") != 3 || s.Name != "sweep" {
		t.Errorf("%+v, %v, duration at line %d", s, err, pos.Line("duration"))
	}
	if _, _, err := ParseNode("sweep.yaml", doc.Base.Content[1]); err == nil || err.Error() != `sweep.yaml:3: a scenario is a YAML mapping, got "5s"` {
		t.Errorf("a scalar: %v", err)
	}
}
