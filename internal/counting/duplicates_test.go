package counting

import (
	"testing"
	"time"
)

// A call is a duplicate while another call for its region and key is in
// progress, or less than the window after one succeeded; a failed call
// leaves nothing to be a duplicate of once it has ended, and regions and
// keys are apart.
func TestDuplicates(t *testing.T) {
	const window = 10 * time.Second
	type call struct {
		start       bool // else done
		region, key int
		at          time.Duration
		ok          bool // done: it succeeded
		dup         bool // start: want a duplicate
	}
	start := func(region, key int, at time.Duration, dup bool) call {
		return call{start: true, region: region, key: key, at: at, dup: dup}
	}
	done := func(region, key int, at time.Duration, ok bool) call {
		return call{region: region, key: key, at: at, ok: ok}
	}
	s := time.Second
	for _, tc := range []struct {
		name  string
		calls []call
	}{
		{"a first call is none", []call{start(0, 0, 0, false)}},
		{"a second call while the first is in progress", []call{start(0, 7, 0, false), start(0, 7, s, true)}},
		{"within the window of a success, and not from its end", []call{
			start(0, 7, 0, false), done(0, 7, s, true), start(0, 7, s+window-1, true), done(0, 7, 2*s+window, true),
			start(0, 7, 2*s+2*window, false),
		}},
		{"after a failure", []call{start(1, 3, 0, false), done(1, 3, s, false), start(1, 3, 2*s, false)}},
		{"other regions and keys", []call{
			start(0, 3, 0, false), start(1, 3, 0, false), start(0, 4, 0, false), start(0, DenseKeys+3, 0, false),
			start(0, DenseKeys+3, s, true),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDuplicates(2, window)
			for i, c := range tc.calls {
				if !c.start {
					d.Done(c.region, c.key, c.at, c.ok)
					continue
				}
				if got := d.Start(c.region, c.key, c.at); got != c.dup {
					t.Errorf("call %d (region %d, key %d, at %v): duplicate %v, want %v", i, c.region, c.key, c.at, got, c.dup)
				}
			}
		})
	}
}

// With TTL jitter a fill can live as little as (1-jitter) of the TTL, so the
// window is that: a call after a value that short has gone is no duplicate.
func TestDuplicateWindow(t *testing.T) {
	for _, tc := range []struct {
		ttl    time.Duration
		jitter float64
		want   time.Duration
	}{
		{10 * time.Second, 0, 10 * time.Second},
		{10 * time.Second, 0.3, 7 * time.Second},
		{10 * time.Second, 1, 0},
		{10 * time.Second, -0.5, 10 * time.Second},
	} {
		if got := DuplicateWindow(tc.ttl, tc.jitter); got != tc.want {
			t.Errorf("DuplicateWindow(%v, %v) = %v, want %v", tc.ttl, tc.jitter, got, tc.want)
		}
	}
}
