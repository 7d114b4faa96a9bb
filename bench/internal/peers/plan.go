package peers

import (
	"fmt"
	"time"
)

// StampedeSize is one size of the stampede case.
type StampedeSize struct {
	Requests, Instances int
}

// Config says which cases run at which sizes.
type Config struct {
	// Smoke marks the one-repeat, small-size run CI makes.
	Smoke bool
	// Repeats is how often every unit runs, interleaved: repeat r runs
	// every unit once, the peers of each case in an order rotated by r.
	Repeats int
	// UncontendedCalls is the number of misses of the uncontended case.
	UncontendedCalls int
	// Stampedes lists the stampede sizes.
	Stampedes []StampedeSize
	// Upstream is the upstream latency of the stampede and dead-holder
	// cases: long enough for every caller to be waiting when it returns.
	Upstream time.Duration
	// Limit bounds each caller's wait in the stampede and dead-holder
	// cases.
	Limit time.Duration
	// DeadInstances and DeadWaiters size the dead-holder case; it runs for
	// the settings listed in DeadSettings.
	DeadInstances, DeadWaiters int
	DeadSettings               []string
	// Zipf* size the many-keys case.
	ZipfCalls, ZipfWorkers, ZipfInstances, ZipfKeys int
	ZipfUpstream                                    time.Duration
}

// Full is the configuration of `make bench-peers`.
func Full() Config {
	return Config{
		Repeats: 5, UncontendedCalls: 2000,
		Stampedes: []StampedeSize{{1000, 10}, {1000, 50}, {10000, 10}, {10000, 50}},
		Upstream:  200 * time.Millisecond, Limit: 30 * time.Second,
		DeadInstances: 10, DeadWaiters: 1000, DeadSettings: []string{"default", "tuned"},
		ZipfCalls: 200000, ZipfWorkers: 64, ZipfInstances: 10, ZipfKeys: 10000, ZipfUpstream: 5 * time.Millisecond,
	}
}

// Smoke is the configuration of `SMOKE=1 make bench-peers`: one repeat,
// small sizes, the dead holder only with the short (tuned) leases, so that
// it takes well under a minute.
func Smoke() Config {
	return Config{
		Smoke: true, Repeats: 1, UncontendedCalls: 200,
		Stampedes: []StampedeSize{{100, 5}, {250, 10}},
		Upstream:  50 * time.Millisecond, Limit: 10 * time.Second,
		DeadInstances: 5, DeadWaiters: 50, DeadSettings: []string{"tuned"},
		ZipfCalls: 5000, ZipfWorkers: 16, ZipfInstances: 5, ZipfKeys: 10000, ZipfUpstream: 5 * time.Millisecond,
	}
}

// Params returns the configuration as the plan records it.
func (c Config) Params() map[string]any {
	return map[string]any{
		"uncontended_calls": c.UncontendedCalls, "stampedes": c.Stampedes,
		"upstream": c.Upstream.String(), "limit": c.Limit.String(),
		"dead_instances": c.DeadInstances, "dead_waiters": c.DeadWaiters, "dead_settings": c.DeadSettings,
		"zipf_calls": c.ZipfCalls, "zipf_workers": c.ZipfWorkers, "zipf_instances": c.ZipfInstances,
		"zipf_keys": c.ZipfKeys, "zipf_upstream": c.ZipfUpstream.String(),
	}
}

// Unit is one case at one size for one peer.
type Unit struct {
	// Key names the unit in the raw file.
	Key string
	// Case is "uncontended", "stampede", "dead-holder" or "zipf".
	Case string
	Peer Peer
	// Instances is how many instances the unit builds.
	Instances int
	// Labels say what was measured.
	Labels map[string]string
	size   StampedeSize
}

// Units returns the units of one repeat, in the order repeat r runs them.
func (c Config) Units(r int) []Unit {
	peers := All()
	var out []Unit
	add := func(cs string, instances int, extra map[string]string, size StampedeSize, keep func(Peer) bool) {
		for i := range peers {
			p := peers[(i+r)%len(peers)]
			if keep != nil && !keep(p) {
				continue
			}
			key := fmt.Sprintf("%s/i=%d", cs, instances)
			if size.Requests > 0 {
				key = fmt.Sprintf("%s/r=%d/i=%d", cs, size.Requests, instances)
			}
			labels := map[string]string{"case": cs, "peer": p.Name, "setting": p.Setting, "settings": p.Settings, "instances": fmt.Sprint(instances)}
			if p.Polling {
				labels["polling"] = "yes"
			}
			for k, v := range extra {
				labels[k] = v
			}
			out = append(out, Unit{Key: key + "/" + p.ID(), Case: cs, Peer: p, Instances: instances, Labels: labels, size: size})
		}
	}
	add("uncontended", 1, nil, StampedeSize{}, nil)
	for _, s := range c.Stampedes {
		add("stampede", s.Instances, map[string]string{"requests": fmt.Sprint(s.Requests)}, s, nil)
	}
	add("dead-holder", c.DeadInstances, map[string]string{"waiters": fmt.Sprint(c.DeadWaiters)}, StampedeSize{}, func(p Peer) bool {
		for _, s := range c.DeadSettings {
			if s == p.Setting {
				return true
			}
		}
		return false
	})
	add("zipf", c.ZipfInstances, map[string]string{"keys": fmt.Sprint(c.ZipfKeys)}, StampedeSize{}, nil)
	return out
}

// AllUnits returns every unit's key over every repeat, in run order.
func (c Config) AllUnits() []string {
	var keys []string
	for r := range c.Repeats {
		for _, u := range c.Units(r) {
			keys = append(keys, fmt.Sprintf("%s#%d", u.Key, r))
		}
	}
	return keys
}
