// Package sweeps reads sweep files and expands them into the scenarios
// they run. A sweep names a base scenario (a built-in, a file beside the
// sweep file, or one written inline), fields of it to set for every point,
// axes that give fields of it a list or a range of values (a grid when
// there are several), repeats of each point, and the lock topologies to
// run; each point is the base with one value of every axis, checked as a
// scenario file would be.
//
// Files are read as strictly as scenario files (package scenarios), with
// the same "file:line: field: message" errors, every mistake at once; an
// axis whose path names no field says which it was probably meant to be.
// Each repeat of a point gets a seed derived from the sweep's seed, the
// point's values and the repeat alone, and each point a shard from its
// values alone, so that what a point gives does not depend on which other
// points run, or where.
//
// The package must not run anything: it describes the runs (package
// sweeps/runner runs them) and knows nothing of the simulator.
package sweeps
