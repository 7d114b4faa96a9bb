package locks_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// Machines that share effect buffers (SimHooks.ShareEffects) behave exactly
// as machines that do not, when the driver takes each input's effects
// before the next input: the same upstream calls, and every request the
// same reply at the same time. The run mixes node-cache hits, collapsed
// followers, shared-level waits and upstream errors on five nodes.
func TestShareEffectsChangesNothing(t *testing.T) {
	for _, b := range locks.Builtins {
		t.Run(b.Name, func(t *testing.T) {
			run := func(share bool) string {
				cfg := defaultConfig(builtin(t, b.Name), nodesIn(5, 2, 2)...)
				cfg.ShareEffects = share
				cfg.UpstreamFn = func(n int, key string) (time.Duration, error) {
					if n%4 == 3 {
						return 30 * ms, fmt.Errorf("call %d for %q failed", n, key)
					}
					return time.Duration(20+n%7*30) * ms, nil
				}
				w := newWorld(t, cfg)
				for i := range 400 {
					w.request(at(time.Duration(i)*3*ms), i%5, []string{"a", "b", "c"}[i*7%3])
				}
				w.run()
				var out strings.Builder
				out.WriteString(w.describe())
				for id := locks.ReqID(1); int(id) <= 400; id++ {
					r := w.req(id)
					fmt.Fprintf(&out, "%d: %v %v %v at %v\n", id, r.reply.Served, r.reply.Value, r.reply.Err, dur(r.repliedAt))
				}
				return out.String()
			}
			if own, shared := run(false), run(true); own != shared {
				t.Errorf("with shared effect buffers the run differs:\nown buffers:\n%s\nshared:\n%s", own, shared)
			}
		})
	}
}
