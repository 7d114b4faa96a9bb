// Package locks is the request-collapsing lock protocol of stampsim, written
// once and run both in production (package real, against Redis) and in the
// simulator (virtual time).
//
// A Machine is the protocol for one node, as a deterministic state machine in
// the shape of etcd-io/raft's RawNode: the driver feeds it inputs (a request
// arrived, a store replied, a timer fired, the upstream answered, a release
// was announced, a request was cancelled), each stamped with the driver's
// clock, and collects the effects it asks for with Ready (run a store
// operation, set or cancel a timer, call the upstream, reply to a request).
//
// A topology is a list of levels, innermost first: the node level collapses
// the requests of one process into one flight per key; each shared level
// (zone, region, global) is a lease lock in a store of that scope, taken with
// one compound read-or-acquire operation (double-checked locking in one round
// trip). The holder of the outermost level calls the upstream, then publishes
// the value to every cache it passed with the fence its lock gave it, which
// releases the lock.
//
// The package must not do I/O, read a clock, sleep, or start goroutines: all
// of that belongs to the drivers. It imports neither package sim nor package
// real.
package locks
