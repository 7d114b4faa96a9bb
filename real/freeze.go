package real

import (
	"fmt"
	"sync"

	"github.com/stampsim/stampsim/internal/realhooks"
)

// The freeze is lent to this module's fault injection (realhooks) rather
// than exported: a service has no use for stopping its own driver.
func init() {
	realhooks.FreezeDriver = func(d any) func() {
		drv, ok := d.(*Driver)
		if !ok {
			panic(fmt.Sprintf("realhooks.FreezeDriver: %T is not a *real.Driver", d))
		}
		return drv.freeze()
	}
}

// freeze stops d from handling anything until the returned function is
// called (see realhooks.FreezeDriver): it holds d's mutex, which every
// request, store reply, notification, timer and end of an upstream call
// takes before it reaches the machine.
func (d *Driver) freeze() (thaw func()) {
	d.mu.Lock()
	// A frozen process loses nothing, and d.mu's waiters are handed the
	// mutex in the order they queued once they have waited a millisecond
	// (sync.Mutex's starvation mode), which is the order the events came.
	var once sync.Once
	return func() { once.Do(d.mu.Unlock) }
}
