package locks_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// Validate names the level and the setting that is wrong.
func TestTopologyValidate(t *testing.T) {
	good := defaultLevel
	lvl := func(scope locks.Scope, edit func(*locks.Level)) locks.Level {
		l := good
		l.Scope = scope
		if edit != nil {
			edit(&l)
		}
		return l
	}
	tests := []struct {
		name   string
		levels []locks.Level
		// wantLevel and wantField locate the error; wantField "" means valid.
		wantLevel int
		wantField string
		wantIn    string
	}{
		{"none is valid", nil, 0, "", ""},
		{"two-level is valid", []locks.Level{lvl(locks.ScopeNode, nil), lvl(locks.ScopeRegion, nil)}, 0, "", ""},
		{"node level needs no lease or poll interval", []locks.Level{lvl(locks.ScopeNode, func(l *locks.Level) { l.LeaseTTL, l.PollInterval = 0, 0 })}, 0, "", ""},
		{"lease TTL zero", []locks.Level{lvl(locks.ScopeNode, nil), lvl(locks.ScopeRegion, func(l *locks.Level) { l.LeaseTTL = 0 })}, 1, "lease_ttl", "must be positive, got 0s"},
		{"lease TTL negative", []locks.Level{lvl(locks.ScopeRegion, func(l *locks.Level) { l.LeaseTTL = -time.Second })}, 0, "lease_ttl", "got -1s"},
		{"lease TTL under a millisecond", []locks.Level{lvl(locks.ScopeRegion, func(l *locks.Level) { l.LeaseTTL = 999 * time.Microsecond })}, 0, "lease_ttl", "at least 1ms"},
		{"scope out of order", []locks.Level{lvl(locks.ScopeRegion, nil), lvl(locks.ScopeZone, nil)}, 1, "scope", "zone after region"},
		{"node after a shared scope", []locks.Level{lvl(locks.ScopeZone, nil), lvl(locks.ScopeNode, nil)}, 1, "scope", "node after zone"},
		{"duplicate scope", []locks.Level{lvl(locks.ScopeRegion, nil), lvl(locks.ScopeRegion, nil)}, 1, "scope", "region after region"},
		{"unknown scope", []locks.Level{lvl(locks.Scope(9), nil)}, 0, "scope", "unknown scope 9"},
		{"wait timeout zero", []locks.Level{lvl(locks.ScopeNode, func(l *locks.Level) { l.WaitTimeout = 0 })}, 0, "wait_timeout", "must be positive"},
		{"wait timeout zero at a shared level", []locks.Level{lvl(locks.ScopeNode, nil), lvl(locks.ScopeGlobal, func(l *locks.Level) { l.WaitTimeout = 0 })}, 1, "wait_timeout", "got 0s"},
		{"poll interval zero", []locks.Level{lvl(locks.ScopeZone, func(l *locks.Level) { l.PollInterval = 0 })}, 0, "poll_interval", "must be positive"},
		{"unknown policy", []locks.Level{lvl(locks.ScopeNode, func(l *locks.Level) { l.OnTimeout = 7 })}, 0, "on_timeout", "unknown policy 7"},
		{"unknown wake mode", []locks.Level{lvl(locks.ScopeRegion, func(l *locks.Level) { l.Wake = 5 })}, 0, "wake", "unknown wake mode 5"},
		{"too many levels", []locks.Level{
			lvl(locks.ScopeNode, nil), lvl(locks.ScopeZone, nil), lvl(locks.ScopeRegion, nil), lvl(locks.ScopeGlobal, nil), lvl(locks.ScopeGlobal, nil),
		}, -1, "levels", "5 levels, at most 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := locks.Topology{Name: "mine", Levels: tt.levels}.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			var fe *locks.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate: %v, want a *FieldError", err)
			}
			if fe.Topology != "mine" || fe.Level != tt.wantLevel || fe.Field != tt.wantField || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("Validate: %+v (%q), want level %d, field %s, mentioning %q", *fe, err, tt.wantLevel, tt.wantField, tt.wantIn)
			}
		})
	}
}

// The error message names the topology, the level and the field.
func TestFieldErrorMessage(t *testing.T) {
	tests := []struct {
		err  locks.FieldError
		want string
	}{
		{locks.FieldError{Topology: "t", Level: 1, Field: "lease_ttl", Reason: "must be positive, got 0s"}, `topology "t": level 1: lease_ttl: must be positive, got 0s`},
		{locks.FieldError{Topology: "t", Level: -1, Field: "levels", Reason: "too many"}, `topology "t": levels: too many`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// The six built-in variants and their scopes, innermost first.
func TestBuiltins(t *testing.T) {
	want := map[string][]locks.Scope{
		"none":        nil,
		"node-only":   {locks.ScopeNode},
		"one-level":   {locks.ScopeRegion},
		"two-level":   {locks.ScopeNode, locks.ScopeRegion},
		"global":      {locks.ScopeGlobal},
		"fanout-tree": {locks.ScopeNode, locks.ScopeZone, locks.ScopeRegion, locks.ScopeGlobal},
	}
	if len(locks.Builtins) != len(want) {
		t.Errorf("%d built-ins, want %d", len(locks.Builtins), len(want))
	}
	for _, b := range locks.Builtins {
		w, ok := want[b.Name]
		if !ok {
			t.Errorf("unexpected built-in %q", b.Name)
			continue
		}
		topo, err := locks.Builtin(b.Name, defaultLevel)
		if err != nil {
			t.Errorf("Builtin(%q): %v", b.Name, err)
			continue
		}
		var got []locks.Scope
		for _, l := range topo.Levels {
			got = append(got, l.Scope)
			if l.LeaseTTL != defaultLevel.LeaseTTL || l.WaitTimeout != defaultLevel.WaitTimeout || l.PollInterval != defaultLevel.PollInterval {
				t.Errorf("%s: level %s does not carry the defaults: %+v", b.Name, l.Scope, l)
			}
		}
		if topo.Name != b.Name || !slices.Equal(got, w) || !slices.Equal(b.Scopes, w) {
			t.Errorf("Builtin(%q) = %q with scopes %v (listed %v), want %v", b.Name, topo.Name, got, b.Scopes, w)
		}
	}
}

// Unknown names and bad defaults are errors that say what was wrong.
func TestBuiltinErrors(t *testing.T) {
	_, err := locks.Builtin("three-level", defaultLevel)
	if err == nil || !strings.Contains(err.Error(), `"three-level"`) || !strings.Contains(err.Error(), "two-level") {
		t.Errorf("unknown name: %v, want an error naming it and listing the built-ins", err)
	}
	bad := defaultLevel
	bad.LeaseTTL = 0
	_, err = locks.Builtin("two-level", bad)
	var fe *locks.FieldError
	if !errors.As(err, &fe) || fe.Field != "lease_ttl" || fe.Level != 1 {
		t.Errorf("zero lease: %v, want a lease_ttl error at level 1", err)
	}
	if _, err := locks.Builtin("node-only", bad); err != nil {
		t.Errorf("node-only ignores the lease: %v", err)
	}
}

// Scopes, policies and wake modes print as written in scenario files and
// parse back; unknown names are errors that list the valid ones.
func TestNamesRoundTrip(t *testing.T) {
	for s := locks.ScopeNode; s <= locks.ScopeGlobal; s++ {
		if got, err := locks.ParseScope(s.String()); err != nil || got != s {
			t.Errorf("ParseScope(%q) = %v, %v", s, got, err)
		}
	}
	for _, p := range []locks.Policy{locks.PolicyInvoke, locks.PolicyFail, locks.PolicyStale} {
		if got, err := locks.ParsePolicy(p.String()); err != nil || got != p {
			t.Errorf("ParsePolicy(%q) = %v, %v", p, got, err)
		}
	}
	for _, w := range []locks.Wake{locks.WakeNotify, locks.WakePoll} {
		if got, err := locks.ParseWake(w.String()); err != nil || got != w {
			t.Errorf("ParseWake(%q) = %v, %v", w, got, err)
		}
	}
	for _, err := range []error{
		second(locks.ParseScope("planet")),
		second(locks.ParsePolicy("retry")),
		second(locks.ParseWake("push")),
	} {
		if err == nil || !strings.Contains(err.Error(), "want one of") {
			t.Errorf("unknown name: %v, want an error listing the valid names", err)
		}
	}
	if got := locks.Scope(9).String(); got != "scope(9)" {
		t.Errorf("Scope(9) prints %q", got)
	}
	if got := (locks.Level{Scope: locks.ScopeZone}).LevelName(); got != "zone" {
		t.Errorf("unnamed zone level is called %q", got)
	}
	if got := (locks.Level{Name: "az", Scope: locks.ScopeZone}).LevelName(); got != "az" {
		t.Errorf("named level is called %q", got)
	}
}

func second[T any](_ T, err error) error { return err }

// NewMachine refuses what the topology alone cannot say is wrong.
func TestNewMachineErrors(t *testing.T) {
	two := builtin(t, "two-level")
	tests := []struct {
		name string
		cfg  locks.Config
		want string
	}{
		{"invalid topology", locks.Config{Topology: locks.Topology{Levels: []locks.Level{{Scope: locks.ScopeNode}}}}, "wait_timeout"},
		{"shared level without a shared cache TTL", locks.Config{Topology: two}, "shared cache TTL must be positive"},
		{"negative node cache TTL", locks.Config{Topology: two, SharedCacheTTL: time.Second, NodeCacheTTL: -1}, "must not be negative"},
		{"negative stale window", locks.Config{Topology: two, SharedCacheTTL: time.Second, StaleFor: -1}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := locks.NewMachine[int](tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewMachine: %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}
