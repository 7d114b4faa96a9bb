// Package realhooks lends this module's fault-injection tooling (stampsim
// validate, the tests of package real) what the production driver can do
// but keeps out of its public API, since a service has no use for it: today,
// freezing a driver as if its process were stopped, for node-pause.
//
// Package real fills the hooks when it is initialised; this package holds
// only the variables, so that real can import it without a cycle. It must
// not be imported outside this module's tooling, nor hold any logic of its
// own.
package realhooks

// FreezeDriver stops d, a *real.Driver, from handling anything until thaw is
// called: requests, store replies, release notifications, timers and the
// ends of upstream calls all wait, as they would while the node's process
// is stopped (a long garbage-collection pause, a SIGSTOP). What d already
// sent goes on meanwhile, so its leases can end while it is frozen. Once
// thawed it handles what waited at once. Closing d waits for the thaw; thaw
// may be called more than once. It panics if d is not a *real.Driver: the
// hook takes any because this package cannot name package real's type.
var FreezeDriver func(d any) (thaw func())
