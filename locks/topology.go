package locks

import (
	"fmt"
	"strings"
	"time"
)

// Scope is how far a lock level reaches: one process, a zone, a region or the
// whole world. Scopes are ordered from the innermost to the outermost.
type Scope uint8

// The scopes, innermost first.
const (
	ScopeNode Scope = iota
	ScopeZone
	ScopeRegion
	ScopeGlobal
	numScopes
)

// MaxLevels is the most levels a topology can have: one per scope.
const MaxLevels = int(numScopes)

var scopeNames = [...]string{"node", "zone", "region", "global"}

// String returns the scope's name as written in scenario files.
func (s Scope) String() string {
	if int(s) < len(scopeNames) {
		return scopeNames[s]
	}
	return fmt.Sprintf("scope(%d)", uint8(s))
}

// Shared reports whether the scope is served by a store rather than by the
// process itself.
func (s Scope) Shared() bool { return s != ScopeNode }

// ParseScope returns the scope named s.
func ParseScope(s string) (Scope, error) {
	for i, n := range scopeNames {
		if n == s {
			return Scope(i), nil
		}
	}
	return 0, fmt.Errorf("unknown scope %q (want one of %s)", s, strings.Join(scopeNames[:], ", "))
}

// Policy is what a waiter does when its wait timeout passes.
type Policy uint8

// The on-timeout policies.
const (
	// PolicyInvoke calls the upstream directly (a hedge). It is the
	// default and what Vercel's CDN does.
	PolicyInvoke Policy = iota
	// PolicyFail replies with ErrWaitTimeout.
	PolicyFail
	// PolicyStale serves the value the node cache still holds past its TTL
	// (see Config.StaleFor), and fails like PolicyFail when it holds none,
	// so that the upstream stays protected.
	PolicyStale
)

var policyNames = [...]string{"invoke", "fail", "stale"}

// String returns the policy's name as written in scenario files.
func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("policy(%d)", uint8(p))
}

// ParsePolicy returns the policy named s.
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if n == s {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown on_timeout policy %q (want one of %s)", s, strings.Join(policyNames[:], ", "))
}

// Wake is how a waiter at a shared level learns that the lock was released.
type Wake uint8

// The wake modes.
const (
	// WakeNotify subscribes to release notifications and keeps polling at
	// the poll interval as a safety net.
	WakeNotify Wake = iota
	// WakePoll only polls, at the poll interval.
	WakePoll
)

var wakeNames = [...]string{"notify", "poll"}

// String returns the wake mode's name as written in scenario files.
func (w Wake) String() string {
	if int(w) < len(wakeNames) {
		return wakeNames[w]
	}
	return fmt.Sprintf("wake(%d)", uint8(w))
}

// ParseWake returns the wake mode named s.
func ParseWake(s string) (Wake, error) {
	for i, n := range wakeNames {
		if n == s {
			return Wake(i), nil
		}
	}
	return 0, fmt.Errorf("unknown wake mode %q (want one of %s)", s, strings.Join(wakeNames[:], ", "))
}

// Level is one lock of a topology.
type Level struct {
	// Name labels the level in results; it defaults to the scope's name.
	Name string
	// Scope says who shares the lock.
	Scope Scope
	// LeaseTTL is how long a shared lock is held unless it is renewed or
	// released. It must be positive for shared levels and is ignored for the
	// node level, which lives in memory.
	LeaseTTL time.Duration
	// WaitTimeout is how long a waiter waits at this level, measured from
	// when it began waiting there, before it applies OnTimeout.
	WaitTimeout time.Duration
	// OnTimeout is what a waiter does when WaitTimeout passes.
	OnTimeout Policy
	// Wake is how waiters learn of a release (shared levels only).
	Wake Wake
	// PollInterval is how often a waiter re-reads the store (shared levels
	// only; with WakeNotify it is the safety net).
	PollInterval time.Duration
	// NoRenew switches lease renewal off for this level, to reproduce the
	// failure renewal prevents: an upstream slower than the lease lets a
	// second holder in.
	NoRenew bool
}

// Topology is an ordered list of lock levels, innermost first. An empty list
// is the "none" variant: every miss calls the upstream.
type Topology struct {
	Name   string
	Levels []Level
}

// FieldError says which setting of which level is wrong. Level is -1 for an
// error about the topology as a whole.
type FieldError struct {
	Topology string
	Level    int
	Field    string
	Reason   string
}

// Error implements error.
func (e *FieldError) Error() string {
	if e.Level < 0 {
		return fmt.Sprintf("topology %q: %s: %s", e.Topology, e.Field, e.Reason)
	}
	return fmt.Sprintf("topology %q: level %d: %s: %s", e.Topology, e.Level, e.Field, e.Reason)
}

// Validate checks that the levels make sense: scopes strictly from inner to
// outer (so node can only come first), and positive durations.
func (t Topology) Validate() error {
	if len(t.Levels) > MaxLevels {
		return &FieldError{t.Name, -1, "levels", fmt.Sprintf("%d levels, at most %d (one per scope)", len(t.Levels), MaxLevels)}
	}
	for i, l := range t.Levels {
		if l.Scope >= numScopes {
			return &FieldError{t.Name, i, "scope", fmt.Sprintf("unknown scope %d", l.Scope)}
		}
		if i > 0 && l.Scope <= t.Levels[i-1].Scope {
			return &FieldError{t.Name, i, "scope", fmt.Sprintf("%s after %s: levels must go from inner to outer scopes (node, zone, region, global), each at most once", l.Scope, t.Levels[i-1].Scope)}
		}
		if l.WaitTimeout <= 0 {
			return &FieldError{t.Name, i, "wait_timeout", fmt.Sprintf("must be positive, got %v", l.WaitTimeout)}
		}
		if l.OnTimeout > PolicyStale {
			return &FieldError{t.Name, i, "on_timeout", fmt.Sprintf("unknown policy %d", l.OnTimeout)}
		}
		if !l.Scope.Shared() {
			continue
		}
		if l.LeaseTTL <= 0 {
			return &FieldError{t.Name, i, "lease_ttl", fmt.Sprintf("must be positive, got %v", l.LeaseTTL)}
		}
		if l.LeaseTTL < time.Millisecond {
			return &FieldError{t.Name, i, "lease_ttl", fmt.Sprintf("must be at least 1ms (stores count leases in milliseconds), got %v", l.LeaseTTL)}
		}
		if l.PollInterval <= 0 {
			return &FieldError{t.Name, i, "poll_interval", fmt.Sprintf("must be positive, got %v", l.PollInterval)}
		}
		if l.Wake > WakePoll {
			return &FieldError{t.Name, i, "wake", fmt.Sprintf("unknown wake mode %d", l.Wake)}
		}
	}
	return nil
}

// LevelName returns the level's name, or its scope's name when it has none.
func (l Level) LevelName() string {
	if l.Name != "" {
		return l.Name
	}
	return l.Scope.String()
}

// Builtins lists the built-in variants by name, with their scopes.
var Builtins = []struct {
	Name   string
	Scopes []Scope
}{
	{"none", nil},
	{"node-only", []Scope{ScopeNode}},
	{"one-level", []Scope{ScopeRegion}},
	{"two-level", []Scope{ScopeNode, ScopeRegion}},
	{"global", []Scope{ScopeGlobal}},
	{"fanout-tree", []Scope{ScopeNode, ScopeZone, ScopeRegion, ScopeGlobal}},
}

// Builtin returns the built-in variant called name, each level a copy of
// defaults with its scope set.
func Builtin(name string, defaults Level) (Topology, error) {
	for _, b := range Builtins {
		if b.Name != name {
			continue
		}
		t := Topology{Name: name}
		for _, s := range b.Scopes {
			l := defaults
			l.Scope = s
			t.Levels = append(t.Levels, l)
		}
		return t, t.Validate()
	}
	names := make([]string, len(Builtins))
	for i, b := range Builtins {
		names[i] = b.Name
	}
	return Topology{}, fmt.Errorf("unknown topology %q (built-in: %s)", name, strings.Join(names, ", "))
}

// FenceTTL returns how long a store keeps a key's fence counter and last
// accepted fence after each operation that sets them (Op.FenceTTL): the
// longer of the level's lease and the shared cache TTL. The fences need not
// outlive that, and without a TTL every key a service ever locked would
// leave them behind for good.
//
// The fences order the writes of one level: a value is accepted only with a
// fence no older than the last accepted one and no newer than the counter.
// The counter is set to live FenceTTL after every acquisition, renewal and
// accepted write, so it outlives every lock granted from it (a lock lives a
// lease after it was taken or last renewed) and the accepted fence (which
// only those writes set, with the same TTL). The accepted fence outlives the
// value written with it (which lives the cache TTL). So while any lock or
// any value that the fences order is alive, neither fence has expired and
// they compare as if they never did: a holder whose lease ran out cannot
// overwrite a value that a newer holder wrote and that is still cached, and
// the next holder's fence is newer than that of any holder whose lock is
// alive. Once they have expired, nothing they ordered is left: a late write
// meets a fresh counter and is refused if its fence is beyond it, as after a
// store restarted without its keys.
//
// What the TTL gives up: a holder delayed by more than FenceTTL between its
// last acquisition or renewal and its write reaching the store can find its
// fence number granted again, by the fresh counter, to a newer holder, and
// its write then passes for as new as that holder's. Its value is older than
// a whole cache TTL by then. A store that loses its keys has the same window.
func FenceTTL(l Level, sharedCacheTTL time.Duration) time.Duration {
	return max(l.LeaseTTL, sharedCacheTTL)
}
