package world

import "github.com/stampsim/stampsim/locks"

// How events carry their payload. A sim.Event has two words, A and B; the
// kinds that need more than two numbers pack them into a word each, half a
// word per number, and these helpers are the only place that knows how.
// They are on the path of every event, so each is a few shifts that the
// compiler inlines.

// timerIncMask keeps the low 24 bits of a node's incarnation: a timer's B
// holds the kind in its top byte and the sequence number in its low 32 bits,
// which leaves 24 for the incarnation. A node would have to crash 2^24 times
// within one timer's delay for the check to pass wrongly.
const timerIncMask = 0xffffff

// timerInc returns the part of incarnation inc that a timer event carries.
func timerInc(inc uint32) uint32 { return inc & timerIncMask }

// packTimer returns the A and B of the event for timer t of a node in
// incarnation inc: the flight in A (slot, generation), the kind, inc's low
// 24 bits and the sequence number in B.
func packTimer(t locks.Timer, inc uint32) (a, b int64) {
	a = int64(t.Flight.Slot)<<32 | int64(t.Flight.Gen)
	b = int64(t.Kind)<<56 | int64(timerInc(inc))<<32 | int64(t.Seq)
	return a, b
}

// unpackTimer returns the timer and the incarnation (its low 24 bits, see
// timerInc) that packTimer packed into a and b.
func unpackTimer(a, b int64) (t locks.Timer, inc uint32) {
	t = locks.Timer{
		Flight: locks.FlightID{Slot: uint32(a >> 32), Gen: uint32(a)},
		Kind:   locks.TimerKind(b >> 56),
		Seq:    uint32(b),
	}
	return t, uint32(b >> 32 & timerIncMask)
}

// packNotify returns the B of a release notification of a store of scope
// to a node in incarnation inc.
func packNotify(scope locks.Scope, inc uint32) int64 {
	return int64(scope)<<32 | int64(inc)
}

// unpackNotify returns the scope and incarnation that packNotify packed.
func unpackNotify(b int64) (scope locks.Scope, inc uint32) {
	return locks.Scope(b >> 32), uint32(b)
}

// packStoreHint returns the B of an op's arrival at store, for storeArrive
// to prefetch the entry of the key numbered keyNum (locks.Op.KeyNum). It is
// never zero, since store+1 is not: zero is the B of an arrival without a
// hint.
func packStoreHint(store int32, keyNum uint32) int64 {
	return int64(store+1)<<32 | int64(keyNum)
}

// unpackStoreHint returns the store and key number that packStoreHint
// packed into b, which must not be zero.
func unpackStoreHint(b int64) (store int32, keyNum uint32) {
	return int32(b>>32) - 1, uint32(b)
}

// packReplyHint returns the B of a reply to op, for prefetchReply: the
// flight's slot and the key's number (locks.Op.KeyNum; every key of a world
// is numbered, see newMachine). It holds the number plus one, so that it is
// never zero: zero is the B of a reply without a hint. Key numbers stay
// below scenarios.MaxKeys, far from 2^32-1.
func packReplyHint(op *locks.Op[V]) int64 {
	return int64(op.Flight.Slot)<<32 | int64(op.KeyNum+1)
}

// unpackReplyHint returns the flight slot and key number that
// packReplyHint packed into b.
func unpackReplyHint(b int64) (slot, keyNum uint32) {
	return uint32(b >> 32), uint32(b) - 1
}
