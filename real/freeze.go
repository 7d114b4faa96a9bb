package real

import "sync"

// Freeze stops d from handling anything until the returned function is
// called: requests (Do blocks), store replies, release notifications, timers
// and the ends of upstream calls all wait, as they would while the node's
// process is stopped (a long garbage-collection pause, a SIGSTOP, a
// hypervisor stealing the CPU). Once thawed, d handles what waited, in about
// the order it came, at once. What d already sent goes on meanwhile: store
// operations reach the store and upstream calls run, so its leases can end
// while it is frozen, and its writes then meet the fences of newer holders.
//
// Freeze is for fault-injection tooling (stampsim validate runs a
// scenario's node-pause with it); a service has no use for it. Close waits
// for the thaw. The returned function may be called more than once.
func (d *Driver) Freeze() (thaw func()) {
	d.mu.Lock()
	// A frozen process loses nothing, and d.mu's waiters are handed the
	// mutex in the order they queued once they have waited a millisecond
	// (sync.Mutex's starvation mode), which is the order the events came.
	var once sync.Once
	return func() { once.Do(d.mu.Unlock) }
}
