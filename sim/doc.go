// Package sim is stampsim's discrete-event engine: a virtual clock and a
// priority queue of events that a single handler consumes one at a time.
//
// The simulated world (topology, stores, workloads, the lock protocol's
// driver) is built on top of this package. It schedules [Event] values with
// [Engine.At] and [Engine.After], and the engine calls the one [Handler] it
// was given at construction for each event in (time, insertion order). Events
// scheduled for the same virtual instant run in the order they were
// scheduled, so a run is a pure function of its inputs and its seed.
//
// What the package must not do, so that runs stay reproducible and fast:
//
//   - It never reads the wall clock. [Time] is virtual: nanoseconds since the
//     start of a run, advanced only by the engine as it executes events. The
//     time package is used for the [time.Duration] type and nothing else.
//   - It starts no goroutines and takes no locks. An [Engine] is a
//     single-threaded callback loop; a sweep that wants many cores runs many
//     engines, one per goroutine, and shares nothing between them.
//   - It does not allocate per event once warm, and the hot path boxes
//     nothing in interfaces and makes no closure per event: events are
//     small plain structs, the queue is specialised for them, and the one
//     handler is fixed when the engine is made.
//
// Runs are repeatable because the engine orders events totally (by time,
// then by the order they were scheduled) and because randomness comes from
// [Streams]: one independent, seeded math/rand/v2 PCG stream per named
// component, so that adding a component never changes the draws of another.
//
// A minimal world:
//
//	const tick = 1
//	var e *sim.Engine
//	e = sim.New(func(now sim.Time, ev sim.Event) {
//		switch ev.Kind {
//		case tick:
//			e.After(sim.Second, ev) // tick again in one virtual second
//		}
//	})
//	e.At(0, sim.Event{Kind: tick})
//	e.Run(sim.Minute, 0) // 61 ticks, at 0s, 1s, ..., 60s; Now() is 1m0s
package sim
