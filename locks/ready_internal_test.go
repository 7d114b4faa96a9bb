package locks

import (
	"errors"
	"testing"
	"time"
)

// Once the driver is done with a batch (at the next Ready), the machine
// keeps no reference to what could be large: the waiter lists it lent, the
// errors it replied with, and values when they may hold pointers.
func TestReadyDropsReferences(t *testing.T) {
	topo, err := Builtin("node-only", Level{LeaseTTL: time.Second, WaitTimeout: time.Second, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("numbers", func(t *testing.T) {
		m, err := NewMachine[uint64](Config{Topology: topo})
		if err != nil {
			t.Fatal(err)
		}
		m.Request(0, 1, "k")
		m.Request(0, 2, "k") // a follower: answered with a lent waiter list
		f := m.Ready()[0].Fetch.Flight
		m.Fetched(0, f, 0, errors.New("upstream down"))
		batch := m.Ready()
		var errs, lent int
		for _, e := range batch {
			if e.Reply.Err != nil {
				errs++
			}
			if e.Waiters != nil {
				lent++
			}
		}
		if errs != 2 || lent != 1 {
			t.Fatalf("want two error replies, one to the follower, got %+v", batch)
		}
		m.Ready() // the driver is done with batch
		for i, e := range batch[:cap(batch)] {
			if e.Waiters != nil || e.Reply.Err != nil {
				t.Errorf("effect %d still holds waiters %v, error %v", i, e.Waiters, e.Reply.Err)
			}
		}
	})
	t.Run("pointers", func(t *testing.T) {
		m, err := NewMachine[[]byte](Config{Topology: topo})
		if err != nil {
			t.Fatal(err)
		}
		m.Request(0, 1, "k")
		f := m.Ready()[0].Fetch.Flight
		m.Fetched(0, f, make([]byte, 1<<20), nil)
		batch := m.Ready()
		if len(batch) == 0 || batch[0].Kind != EffectReply || batch[0].Reply.Value == nil {
			t.Fatalf("want a reply with the value, got %+v", batch)
		}
		m.Ready()
		for i, e := range batch[:cap(batch)] {
			if e.Reply.Value != nil {
				t.Errorf("effect %d still holds a value of %d bytes", i, len(e.Reply.Value))
			}
		}
	})
}
