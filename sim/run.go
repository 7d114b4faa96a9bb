package sim

import (
	"fmt"

	"github.com/stampsim/stampsim/internal/prefetch"
)

// StopReason says why [Engine.Run] returned.
type StopReason uint8

const (
	// TimeLimit means that the next pending event is later than the limit
	// given to Run. The clock has been advanced to the limit.
	TimeLimit StopReason = iota + 1
	// EventLimit means that Run executed the number of events it was allowed.
	// The clock stays at the time of the last event executed.
	EventLimit
	// QueueEmpty means that no event is pending. The clock has been advanced
	// to the limit given to Run, unless that limit is [Forever].
	QueueEmpty
	// Stopped means that a handler called [Engine.Stop]. The clock stays at
	// the time of the event whose handler stopped the run.
	Stopped
	// Interrupted means that the function given to [Engine.SetInterrupt]
	// reported true. The clock stays at the last event executed, and the
	// events still pending stay queued.
	Interrupted
)

// String returns the reason's name, for example "time limit".
func (r StopReason) String() string {
	switch r {
	case TimeLimit:
		return "time limit"
	case EventLimit:
		return "event limit"
	case QueueEmpty:
		return "queue empty"
	case Stopped:
		return "stopped"
	case Interrupted:
		return "interrupted"
	}
	return fmt.Sprintf("StopReason(%d)", uint8(r))
}

// prefetchSlots is the size of the slot table beyond which Run prefetches
// the slots of the next events: 4096 slots are 128 KiB, about the size of a
// core's L2 cache. Below it the slots stay in cache and prefetching is
// wasted work.
const prefetchSlots = 4096

// InterruptEvery is how many events [Engine.Run] executes between two calls
// of the function given to [Engine.SetInterrupt]. A few thousand events take
// well under a millisecond even in a large world, so an interruption is
// noticed at once in wall time; and asking once per event would put a call
// on the hot path that the check exists to stay off.
const InterruptEvery = 4096

// SetInterrupt makes [Engine.Run] call interrupted before its first event
// and then once every [InterruptEvery] events, and return [Interrupted] as
// soon as it reports true. This is how a run is stopped from outside the
// simulation, for example on a signal: interrupted may read state that
// another goroutine sets (an atomic flag, or whether a context is done),
// and it is the only engine code that does; the engine itself stays
// single-threaded. Unlike the time limit, it works whether or not the
// virtual clock advances, so it also ends a run whose events all fall at
// one instant. A nil interrupted switches the check off. SetInterrupt must
// not be called from inside a handler; Reset keeps the function.
func (e *Engine) SetInterrupt(interrupted func() bool) {
	if e.running {
		panic("sim: SetInterrupt called from inside a handler")
	}
	e.interrupted = interrupted
}

// Stop makes the current [Engine.Run] return [Stopped] once the handler
// that called Stop returns. Events still pending stay queued for a later
// Run. Stop has no effect outside a run.
func (e *Engine) Stop() {
	if e.running {
		e.stop = true
	}
}

// next returns the first entry of the queue (heap or q) and the lanes, and
// the lane it heads (-1: the queue's); ok is false when all are empty.
func (e *Engine) next() (top entry, lane int, ok bool) {
	lane = -1
	if e.big {
		if e.q.len() > 0 {
			top, ok = *e.q.peek(), true
		}
	} else if len(e.heap) > 1 {
		top, ok = e.heap[1], true
	}
	if e.best >= 0 {
		l := &e.lanes[e.best]
		if h := &l.q[l.head]; !ok || h.less(&top) {
			return *h, e.best, true
		}
	}
	return top, lane, ok
}

// take removes the first entry of lane, or the queue's for lane -1.
func (e *Engine) take(lane int) {
	if lane < 0 {
		if e.big {
			e.popBig()
		} else {
			e.pop()
		}
		return
	}
	l := &e.lanes[lane]
	l.popFront()
	e.laneLen--
	if l.len() == 0 {
		e.active &^= 1 << lane
	}
	e.pickBest()
}

// Run executes pending events in (time, insertion order) until one of
// these, checked in this order before each event:
//
//   - a handler has called [Engine.Stop]: returns [Stopped];
//   - maxEvents events have run in this call: returns [EventLimit]
//     (maxEvents == 0 means no limit);
//   - the function given to [Engine.SetInterrupt] reports true (it is
//     asked before the first event and after every [InterruptEvery]):
//     returns [Interrupted];
//   - no event is pending: returns [QueueEmpty];
//   - the next event is later than until: returns [TimeLimit].
//
// So every event at a time <= until runs, unless the run stops early, and
// none later than until does. When Run returns TimeLimit or QueueEmpty the
// clock is left at until, as if an empty event had fired there, so a later
// At or After counts from until; the one exception is until == [Forever],
// which means no time limit and leaves the clock at the last event. When Run
// returns EventLimit, Stopped or Interrupted the clock stays at the last
// event executed.
// The clock never moves backwards: an until earlier than [Engine.Now] runs
// nothing and leaves Now as it was.
//
// Run panics if called from inside a handler.
func (e *Engine) Run(until Time, maxEvents uint64) StopReason {
	if e.running {
		panic("sim: Run called from inside a handler")
	}
	e.running = true
	e.stop = false
	defer func() {
		e.settle() // if a handler panicked
		e.running = false
	}()

	// n counts the events executed in this call. The event limit and the
	// interruption are checked only when n reaches check: one compare per
	// event, the same cost as the event limit's test alone.
	var n, check uint64
	for {
		if e.stop {
			return Stopped
		}
		if n >= check {
			if maxEvents != 0 && n >= maxEvents {
				return EventLimit
			}
			if e.interrupted != nil && e.interrupted() {
				return Interrupted
			}
			check = n + InterruptEvery
			if maxEvents != 0 && check > maxEvents {
				check = maxEvents
			}
		}
		top, lane, ok := e.next()
		if !ok {
			if until != Forever && until > e.now {
				e.now = until
			}
			return QueueEmpty
		}
		i := top.slot()
		if i == noSlot { // the head of a fixed lane
			if top.at > until {
				if until > e.now {
					e.now = until
				}
				return TimeLimit
			}
			l := &e.lanes[lane]
			ev := l.evs[l.head]
			e.now = top.at
			n++
			e.executed++
			e.take(lane)
			e.handler(top.at, ev)
			continue
		}
		s := &e.slots[i]
		if top.at > until {
			// A queue holding only cancelled events is reported empty, so
			// that a cancelled far-future timer never decides the stop
			// reason. The cancelled entries stay queued until they come
			// due: taking them out now would take the radix heap past the
			// clock (see radix.rebase).
			if e.Pending() == 0 {
				if until != Forever && until > e.now {
					e.now = until
				}
				return QueueEmpty
			}
			if until > e.now {
				e.now = until
			}
			return TimeLimit
		}
		if s.state == slotCancelled {
			e.take(lane)
			e.release(i)
			e.cancelled--
			continue
		}
		ev := s.ev
		// The next event to fire is one of the root's children (or one
		// the handler is about to schedule, whose slot is in cache). Their
		// slots are random, and in a large table a miss on each would cost
		// as much as the whole heap operation, so start loading them now,
		// while the handler runs and the heap is sifted.
		if len(e.slots) > prefetchSlots && len(e.heap) > 3 {
			prefetch.At(&e.slots[e.heap[2].slot()])
			prefetch.At(&e.slots[e.heap[3].slot()])
		}
		e.release(i)
		e.now = top.at
		n++
		e.executed++
		switch {
		case lane >= 0:
			e.take(lane)
		case e.big:
			e.popBig()
			if e.big && e.q.len() > 0 {
				prefetch.At(&e.slots[e.q.peek().slot()])
			}
		default:
			e.fired = true
		}
		e.handler(top.at, ev)
		if e.fired {
			e.fired = false
			e.pop()
		}
	}
}

// settle removes the entry of the event being executed from the root of
// the heap, if no event has taken its place yet (see Engine.fired), so that
// the heap holds only pending and cancelled entries.
func (e *Engine) settle() {
	if e.fired {
		e.fired = false
		e.pop()
	}
}
