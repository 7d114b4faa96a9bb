package validate

import (
	"slices"
	"testing"

	"github.com/stampsim/stampsim/locks"
)

// The fault Options.SkipNodeLevel injects takes the node level out of the
// topology the drivers run and nothing else: the shared levels keep their
// order and settings, and the name stays.
func TestWithoutNodeLevel(t *testing.T) {
	level := locks.Level{LeaseTTL: 1e9, WaitTimeout: 1e9, PollInterval: 1e7}
	for _, tc := range []struct {
		name string
		want []locks.Scope
	}{
		{"none", nil},
		{"node-only", nil},
		{"one-level", []locks.Scope{locks.ScopeRegion}},
		{"two-level", []locks.Scope{locks.ScopeRegion}},
		{"fanout-tree", []locks.Scope{locks.ScopeZone, locks.ScopeRegion, locks.ScopeGlobal}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topo, err := locks.Builtin(tc.name, level)
			if err != nil {
				t.Fatal(err)
			}
			got := withoutNodeLevel(topo)
			var scopes []locks.Scope
			for _, l := range got.Levels {
				scopes = append(scopes, l.Scope)
				if l.LeaseTTL != level.LeaseTTL || l.WaitTimeout != level.WaitTimeout || l.PollInterval != level.PollInterval {
					t.Errorf("level %s changed its settings: %+v", l.Scope, l)
				}
			}
			if got.Name != tc.name || !slices.Equal(scopes, tc.want) {
				t.Errorf("got %q with %v, want %q with %v", got.Name, scopes, tc.name, tc.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("the stripped topology does not validate: %v", err)
			}
		})
	}
}
