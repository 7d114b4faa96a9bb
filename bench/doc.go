// Package bench is the root of stampsim's comparisons with what a user would
// pick instead: a module of its own (so that the stampsim module depends on
// no peer library), run by `make bench-peers`, which writes the raw
// measurements into bench/results/ and BENCHMARKS.md from them.
//
//   - internal/peers: stampsim's Redis driver against github.com/bsm/redislock,
//     golang.org/x/sync/singleflight with redislock, go-redsync/redsync,
//     go-redis/cache and viccon/sturdyc, on one redis-server on loopback;
//   - internal/simcmp: the simulator against SimPy 3 (simpy/stampede.py) on
//     the same stampede model, stampsim validate's real run, the engine's
//     floor (BenchmarkBareHeapHold);
//   - internal/rawlog: the raw files, appended as measurements end and
//     resumed by a run with the same plan;
//   - internal/report: BENCHMARKS.md's tables and figures, from the raw
//     files alone;
//   - cmd/bench: the command that runs them.
//
// Nothing here may be imported by the stampsim module, and nothing here may
// change how stampsim or a peer works: it only measures them.
package bench
