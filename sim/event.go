package sim

// Event is what the engine delivers to the [Handler]. Its fields are owned by
// the caller: the engine copies the value when it is scheduled, never looks
// inside it, and hands the same value back when it fires. A typical world
// uses Kind to select what happens, Target to name the node, store or request
// it happens to, and A and B as arguments (a key number, a token, an
// incarnation, an [EventID]).
type Event struct {
	Kind   uint16
	Target int32
	A, B   int64
}

// Handler is called by [Engine.Run] once for each event, in order, with the
// virtual time at which the event fires (equal to [Engine.Now]). An engine has
// exactly one handler, fixed at construction; it switches on [Event.Kind].
//
// A handler may schedule and cancel events and call [Engine.Stop]. It must
// not call [Engine.Run] or [Engine.Reset].
type Handler func(now Time, ev Event)

// EventID identifies one scheduled event, for [Engine.Cancel]. The zero
// EventID identifies no event.
//
// An EventID stays valid only while its event is pending. The ID names a
// slot in the engine's table, which is reused once the event fires or is
// cancelled, and a generation: every scheduled event gets the next value of
// the engine's 32-bit generation counter, so a stale ID never cancels the
// slot's next occupant. (It could only do so if exactly 2^32-1 events, or a
// multiple of that, were scheduled between the two, and the second took the
// same slot.)
//
// An EventID fits in an int64 field of an [Event] by conversion.
type EventID uint64

func makeID(slot uint32, gen uint32) EventID { return EventID(uint64(gen)<<32 | uint64(slot)) }

func (id EventID) slot() uint32 { return uint32(id) }
func (id EventID) gen() uint32  { return uint32(id >> 32) }
