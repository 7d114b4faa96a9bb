package sim

import (
	"testing"
	"time"
)

func TestTimeConversions(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{time.Nanosecond, "1ns"},
		{1500 * time.Millisecond, "1.5s"},
		{-2 * time.Microsecond, "-2µs"},
		{90 * time.Minute, "1h30m0s"},
	}
	for _, tt := range tests {
		st := FromDuration(tt.d)
		if int64(st) != int64(tt.d) {
			t.Errorf("FromDuration(%v) = %d ns, want %d ns", tt.d, int64(st), int64(tt.d))
		}
		if got := st.Duration(); got != tt.d {
			t.Errorf("FromDuration(%v).Duration() = %v, want it back unchanged", tt.d, got)
		}
		if got := st.String(); got != tt.want {
			t.Errorf("Time(%d).String() = %q, want %q", int64(st), got, tt.want)
		}
	}
	if got := Forever.String(); got != "forever" {
		t.Errorf("Forever.String() = %q, want %q", got, "forever")
	}
	if Second != FromDuration(time.Second) || Hour != FromDuration(time.Hour) {
		t.Errorf("Second = %d, Hour = %d: the unit constants disagree with package time", Second, Hour)
	}
}
