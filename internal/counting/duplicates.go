package counting

import "time"

// Duplicates finds duplicate upstream calls. A call for key K in region R is
// a duplicate when another call for (R, K) is in progress, or one succeeded
// less than the window (the shared cache TTL, or the shortest that TTL
// jitter lets it be: DuplicateWindow) before it started: with
// locking working, the region's shared cache would have served it. Times are
// what the caller's clock says since the start of the run. It is not safe
// for concurrent use.
type Duplicates struct {
	window  time.Duration
	regions []ByKey[callState]
}

// callState is what Duplicates knows of one (region, key).
type callState struct {
	inProgress int32
	hasOK      bool
	lastOK     time.Duration
}

// DuplicateWindow is the window of a Duplicates for a run whose shared
// cache keeps values sharedTTL, each fill shortened by TTL jitter (a
// fraction of itself below ttlJitter): the shortest time a value can stay
// cached. A call for a key whose jittered value has expired is no
// duplicate, however soon after the last call it comes: the cache would
// not have served it.
func DuplicateWindow(sharedTTL time.Duration, ttlJitter float64) time.Duration {
	if ttlJitter <= 0 {
		return sharedTTL
	}
	return time.Duration(float64(sharedTTL) * (1 - min(ttlJitter, 1)))
}

// NewDuplicates returns a Duplicates for a fleet of regions regions, with
// the given window.
func NewDuplicates(regions int, window time.Duration) *Duplicates {
	return &Duplicates{window: window, regions: make([]ByKey[callState], regions)}
}

// Start records that a call for key in region started at now, and reports
// whether it is a duplicate.
func (d *Duplicates) Start(region, key int, now time.Duration) bool {
	r := &d.regions[region]
	s := r.Get(key)
	dup := s.inProgress > 0 || (s.hasOK && now-s.lastOK < d.window)
	s.inProgress++
	r.Set(key, s)
	return dup
}

// Done records that a call for key in region that Start recorded ended at
// now, successfully if ok.
func (d *Duplicates) Done(region, key int, now time.Duration, ok bool) {
	r := &d.regions[region]
	s := r.Get(key)
	s.inProgress--
	if ok {
		s.hasOK, s.lastOK = true, now
	}
	r.Set(key, s)
}
