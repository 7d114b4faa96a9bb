package world

import (
	"testing"

	"github.com/stampsim/stampsim/locks"
)

// What the pack helpers put into an event's words comes back out unchanged,
// and the hints, whose zero means "no hint", are never zero, not even for
// store 0, flight slot 0 and key 0.
func TestPayloadsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		slot  uint32
		key   uint32
		store int32
	}{
		{"zeros", 0, 0, 0},
		{"small", 3, 7, 2},
		{"large", 1<<32 - 1, 9_999_999, 1<<31 - 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := locks.Op[V]{Flight: locks.FlightID{Slot: tc.slot, Gen: 5}, KeyNum: tc.key, KeyNumbered: true}
			b := packReplyHint(&op)
			if b == 0 {
				t.Errorf("packReplyHint is 0, which reads as no hint")
			}
			if slot, key := unpackReplyHint(b); slot != tc.slot || key != tc.key {
				t.Errorf("reply hint: slot %d key %d, want %d and %d", slot, key, tc.slot, tc.key)
			}
			b = packStoreHint(tc.store, tc.key)
			if b == 0 {
				t.Errorf("packStoreHint is 0, which reads as no hint")
			}
			if store, key := unpackStoreHint(b); store != tc.store || key != tc.key {
				t.Errorf("store hint: store %d key %d, want %d and %d", store, key, tc.store, tc.key)
			}
			timer := locks.Timer{Flight: op.Flight, Kind: locks.TimerRenew, Seq: tc.key}
			if got, inc := unpackTimer(packTimer(timer, tc.key)); got != timer || inc != timerInc(tc.key) {
				t.Errorf("timer: %+v inc %d, want %+v inc %d", got, inc, timer, timerInc(tc.key))
			}
			if scope, inc := unpackNotify(packNotify(locks.ScopeGlobal, tc.slot)); scope != locks.ScopeGlobal || inc != tc.slot {
				t.Errorf("notify: scope %v inc %d, want global and %d", scope, inc, tc.slot)
			}
		})
	}
}
