package locks

import (
	"testing"
	"time"
)

// A delta packed into a node-cache entry comes back exact below 2048us,
// less than 0.1% short above, and saturates past the largest it can hold.
func TestPackDelta(t *testing.T) {
	for _, d := range []time.Duration{0, time.Microsecond, 2047 * time.Microsecond, 2048 * time.Microsecond,
		100 * time.Millisecond, 1234567 * time.Microsecond, time.Minute, 70 * time.Minute} {
		got := unpackDelta(packDelta(d))
		if d < 2048*time.Microsecond && got != d.Truncate(time.Microsecond) {
			t.Errorf("%v came back %v, want it exact", d, got)
		}
		if err := float64(d-got) / float64(max(d, 1)); got > d || err >= 1.0/1024 {
			t.Errorf("%v came back %v (%.4f%% short)", d, got, 100*err)
		}
	}
	if got := unpackDelta(packDelta(1000 * time.Hour)); got < 70*time.Minute {
		t.Errorf("1000h came back %v, want the largest delta (about 73m)", got)
	}
}
