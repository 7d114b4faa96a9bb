package locks

import (
	"math/rand/v2"
	"testing"
)

// numTable must behave as a map from key numbers to entries that holds
// exactly the non-zero entries, through any mix of sets, drops and sweeps
// (which exercise growth, backward-shift deletion and shrinking).
func TestNumTableIsAMap(t *testing.T) {
	for _, keys := range []int{8, 100, 5000} {
		var tab numTable[int]
		ref := make(map[uint32]keyEntry[int])
		r := rand.New(rand.NewPCG(uint64(keys), 7))
		for step := range 200_000 {
			num := uint32(r.IntN(keys)) // key 0 too: the table, not its caller, keeps 0 for an empty slot
			switch op := r.IntN(10); {
			case op < 5:
				e := keyEntry[int]{value: step, fresh: Time(r.IntN(100)), flight: uint32(r.IntN(3)), cached: r.IntN(2) == 0}
				tab.set(num, e)
				if e.cached || e.flight != 0 {
					ref[num] = e
				} else {
					delete(ref, num)
				}
			case op < 8:
				tab.drop(num)
				delete(ref, num)
			case op < 9:
				if got, want := tab.get(num), ref[num]; got != want {
					t.Fatalf("keys=%d step %d: get(%d) = %+v, want %+v", keys, step, num, got, want)
				}
			default:
				if r.IntN(100) != 0 {
					continue
				}
				cut := Time(r.IntN(100))
				kept := tab.sweep(cut)
				for k, e := range ref {
					if e.flight == 0 && e.fresh <= cut {
						delete(ref, k)
					}
				}
				if kept != len(ref) {
					t.Fatalf("keys=%d step %d: sweep kept %d, want %d", keys, step, kept, len(ref))
				}
			}
			if tab.used != len(ref) {
				t.Fatalf("keys=%d step %d: %d entries, want %d", keys, step, tab.used, len(ref))
			}
		}
		for k := range uint32(keys) {
			if got, want := tab.get(k), ref[k]; got != want {
				t.Fatalf("keys=%d at the end: get(%d) = %+v, want %+v", keys, k, got, want)
			}
		}
	}
}
