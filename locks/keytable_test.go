package locks_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// keyNumber numbers keys "k<n>" the way a simulator does, and leaves every
// other key to the machine's map; k20000 is past the slice's bound.
func keyNumber(key string) int {
	if len(key) < 2 || key[0] != 'k' {
		return -1
	}
	n, err := strconv.Atoi(key[1:])
	if err != nil {
		return -1
	}
	return n
}

// Numbering keys (SimHooks.NumberKeys) only moves keys from the machine's map to a slice: the
// same world, run with and without it, answers every request the same way at
// the same time and makes the same upstream calls. The world mixes numbered
// keys, a key numbered past the slice's bound and unnumbered keys; node
// caches expire during the run and one key's values go stale.
func TestNumberKeysChangesNothing(t *testing.T) {
	keys := []string{"k0", "k1", "k2", "k7", "k20000", "home", "cart"}
	for _, name := range []string{"none", "node-only", "two-level", "fanout-tree"} {
		t.Run(name, func(t *testing.T) {
			run := func(number func(string) int) *world {
				topo := builtin(t, name, func(i int, l *locks.Level) {
					l.WaitTimeout = 150 * ms // some waits time out and hedge
					if i == 0 {
						l.OnTimeout = locks.PolicyStale
					}
				})
				cfg := defaultConfig(topo, nodesIn(6, 2, 1)...)
				cfg.NodeCacheTTL, cfg.SharedCacheTTL, cfg.StaleFor = 80*ms, 300*ms, time.Second
				cfg.UpstreamFn = func(n int, key string) (time.Duration, error) {
					if n%7 == 0 {
						return 20 * ms, errors.New("upstream failed")
					}
					return time.Duration(50+n*37%200) * ms, nil
				}
				cfg.KeyNumbers = number
				w := newWorld(t, cfg)
				r := rand.New(rand.NewPCG(1, 2))
				for i := range 3000 {
					w.request(at(time.Duration(i)*ms/2), r.IntN(6), keys[r.IntN(len(keys))])
				}
				w.run()
				return w
			}
			plain, numbered := run(nil), run(keyNumber)
			if len(plain.reqs) != len(numbered.reqs) || len(plain.fetches) != len(numbered.fetches) {
				t.Fatalf("%d requests and %d calls with the map, %d and %d with numbers",
					len(plain.reqs), len(plain.fetches), len(numbered.reqs), len(numbered.fetches))
			}
			for i, a := range plain.reqs {
				b := numbered.reqs[i]
				got, want := describe(b), describe(a)
				if got != want {
					t.Fatalf("request %d: with numbers %s, with the map %s", i+1, got, want)
				}
			}
			s := plain.served()
			if s[locks.ServedHit] == 0 || (name != "none" && s[locks.ServedStale] == 0) {
				t.Errorf("served %v: the world should produce hits and stale replies", s)
			}
		})
	}
}

func describe(r *reqRec) string {
	return fmt.Sprintf("%d replies, %v %v value %d at %v", r.replies, r.reply.Served, r.reply.Err, r.reply.Value, dur(r.repliedAt))
}

// NumberKeys is refused once the machine has had a request: a key it
// already keeps by name would then be looked for by number and lost.
func TestNumberKeysAfterARequestPanics(t *testing.T) {
	for _, tc := range []struct {
		name     string
		requests int
		panics   bool
	}{
		{"before any request", 0, false},
		{"after a request", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := locks.NewMachine[int](locks.Config{Topology: builtin(t, "node-only"), NodeCacheTTL: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.requests {
				m.Request(0, locks.ReqID(i+1), "k1")
				m.Ready()
			}
			defer func() {
				if got := recover() != nil; got != tc.panics {
					t.Errorf("NumberKeys panicked: %v, want %v", got, tc.panics)
				}
			}()
			m.SimHooks().NumberKeys(keyNumber)
		})
	}
}
