package real

import (
	"container/heap"
	"context"
	"fmt"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// timerKind says what a timer item stands for.
type timerKind uint8

const (
	timerMachine   timerKind = iota // a timer the machine set
	timerSubscribe                  // the deadline of a subscription's confirmation
	timerFetch                      // the deadline of an upstream call
)

// timerItem is one pending timer in the driver's heap.
type timerItem struct {
	at    locks.Time
	idx   int // position in the heap, -1 when not in it
	kind  timerKind
	timer locks.Timer
	sub   *pendingSub
	fetch *fetchRun
	// dropped: the item must not be queued any more (its subscription was
	// answered before its deadline could be queued). Guarded by d.mu.
	dropped bool
}

// timerHeap is a min-heap of timer items by time, each knowing its index so
// that it can be removed or moved.
type timerHeap []*timerItem

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *timerHeap) Push(x any) {
	it := x.(*timerItem)
	it.idx = len(*h)
	*h = append(*h, it)
}
func (h *timerHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	it.idx = -1
	return it
}

// addTimer queues it. Called under d.mu.
func (d *Driver) addTimer(it *timerItem) {
	heap.Push(&d.timers, it)
	if it.idx == 0 {
		d.wakeTimers()
	}
}

// removeTimer drops it if it is queued, and keeps it from being queued
// later. Called under d.mu.
func (d *Driver) removeTimer(it *timerItem) {
	if it == nil {
		return
	}
	it.dropped = true
	if it.idx >= 0 {
		heap.Remove(&d.timers, it.idx)
	}
}

// setMachineTimer replaces the pending timer in t's slot. Called under d.mu.
func (d *Driver) setMachineTimer(t locks.Timer, at locks.Time) {
	slot := t.Slot()
	for slot >= len(d.slots) {
		d.slots = append(d.slots, nil)
	}
	if it := d.slots[slot]; it != nil {
		it.at, it.timer = at, t
		heap.Fix(&d.timers, it.idx)
		if it.idx == 0 {
			d.wakeTimers()
		}
		return
	}
	it := &timerItem{at: at, idx: -1, kind: timerMachine, timer: t}
	d.slots[slot] = it
	d.addTimer(it)
}

// cancelMachineTimer drops the pending timer in t's slot. Called under d.mu.
func (d *Driver) cancelMachineTimer(t locks.Timer) {
	slot := t.Slot()
	if slot < len(d.slots) && d.slots[slot] != nil {
		d.removeTimer(d.slots[slot])
		d.slots[slot] = nil
	}
}

func (d *Driver) wakeTimers() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// timerLoop fires the timers in the heap as they come due.
func (d *Driver) timerLoop() {
	defer d.timersWG.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	var due []*timerItem
	for {
		d.mu.Lock()
		now := d.now()
		due = due[:0]
		for len(d.timers) > 0 && d.timers[0].at <= now {
			it := heap.Pop(&d.timers).(*timerItem)
			if it.kind == timerMachine {
				d.slots[it.timer.Slot()] = nil
				if !d.closed {
					d.m.Fired(now, it.timer)
				}
				continue
			}
			due = append(due, it)
		}
		var b *batch
		if !d.closed {
			b = d.collect(now, false)
		}
		next := time.Duration(-1)
		if len(d.timers) > 0 {
			next = time.Duration(d.timers[0].at - now)
		}
		d.mu.Unlock()
		d.act(b)
		for _, it := range due {
			switch it.kind {
			case timerSubscribe:
				it.sub.owner.expire(it.sub)
			case timerFetch:
				d.fetchDone(false, it.fetch, nil, fmt.Errorf("fetch did not return within %v: %w", d.cfg.fetchTimeout, context.DeadlineExceeded), -1)
			}
		}
		if next >= 0 {
			t.Reset(next)
		}
		select {
		case <-t.C:
		case <-d.wake:
			t.Stop()
		case <-d.done:
			t.Stop()
			return
		}
	}
}
