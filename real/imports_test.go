package real_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Package real is what a service imports: it must not pull in the
// simulator, Prometheus (real/promcollector is the optional bridge), or its
// own test helpers.
func TestImportsNeitherSimulatorNorPrometheus(t *testing.T) {
	noLeaks(t)
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("skipping: the go command is not in PATH: %v", err)
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/stampsim/stampsim/real").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/prometheus/",
		"github.com/stampsim/stampsim/sim",
		"github.com/stampsim/stampsim/world",
		"github.com/stampsim/stampsim/scenarios",
		"github.com/stampsim/stampsim/real/",
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages, too few to be real: %q", len(deps), out)
	}
	for _, dep := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("package real depends on %s", dep)
			}
		}
	}
}
