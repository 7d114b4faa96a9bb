// Package scenarios reads, checks and completes scenario files: the YAML
// documents that say which simulated world to build (fleet shape, network,
// stores, upstream, caches, workload, faults), which lock settings to use,
// and which lock topologies to compare. It also carries the built-in
// scenarios, embedded in the binary.
//
// Files are decoded strictly: an unknown field, a value of the wrong type, a
// duration without a unit, a negative rate, a node that does not exist or a
// level order that makes no sense is an *Error naming the file, the line and
// the field. Once loaded, a Scenario has every default filled in, so that it
// can be written into a results file and replayed as it ran.
// Scenario.Resolved then parses what it names (nodes, scopes, fault kinds)
// into the numbers a simulator indexes with, so that the simulator parses
// and re-checks nothing.
//
// The package must not simulate anything or depend on how the simulator
// works; it only describes a run.
package scenarios
