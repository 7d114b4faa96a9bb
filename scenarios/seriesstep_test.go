package scenarios

import (
	"testing"
	"time"
)

func TestDefaultSeriesStep(t *testing.T) {
	for _, c := range []struct {
		duration time.Duration
		want     time.Duration
	}{
		{time.Nanosecond, time.Millisecond},
		{500 * time.Millisecond, time.Millisecond},
		{time.Second, time.Millisecond},
		{time.Second + time.Nanosecond, 2 * time.Millisecond},
		{2 * time.Second, 2 * time.Millisecond},
		{3 * time.Second, 5 * time.Millisecond},
		{5 * time.Second, 5 * time.Millisecond}, // flash-crowd: 20 samples in its 100ms burst
		{20 * time.Second, 20 * time.Millisecond},
		{time.Minute, 100 * time.Millisecond},
		{time.Hour, 5 * time.Second},
		{24 * time.Hour, 100 * time.Second},
		{1000 * time.Hour, 5000 * time.Second},
		{time.Duration(1<<63 - 1), 10_000_000 * time.Second},
	} {
		got := DefaultSeriesStep(c.duration).D()
		if got != c.want {
			t.Errorf("DefaultSeriesStep(%v) = %v, want %v", c.duration, got, c.want)
		}
		n := c.duration / got // samples, rounded up below
		if c.duration%got != 0 {
			n++
		}
		if n > SeriesPoints {
			t.Errorf("DefaultSeriesStep(%v) = %v gives %d samples, more than %d", c.duration, got, n, SeriesPoints)
		}
	}
}

func TestCheckSeriesStep(t *testing.T) {
	ms := Duration(time.Millisecond)
	for _, c := range []struct {
		step, duration Duration
		want           string // "" for none
	}{
		{ms, 10 * ms, ""},
		{10 * ms, 10 * ms, ""},
		{1500 * Duration(time.Microsecond), 10 * ms, ""},
		{0, 10 * ms, "must be positive, got 0s"},
		{-ms, 10 * ms, "must be positive, got -1ms"},
		{ms - 1, 10 * ms, "must be at least 1ms (the finest step the series keep), got 999.999us"},
		{11 * ms, 10 * ms, "11ms is longer than the duration, 10ms: the series would have a single sample (without a step of its own, a run gets about 1000 samples, 1ms each)"},
	} {
		err := CheckSeriesStep(c.step, c.duration)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("CheckSeriesStep(%v, %v) = %q, want %q", c.step, c.duration, got, c.want)
		}
	}
}

// A file's series_step is kept and used; without one, Step gives the
// default and the field stays empty, so that a results document without
// series does not mention it.
func TestSeriesStepField(t *testing.T) {
	s, err := Parse("x.yaml", []byte(minimal+"series_step: 2ms\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.SeriesStep != Duration(2*time.Millisecond) || s.Step() != 2*time.Millisecond {
		t.Errorf("series_step 2ms: field %v, Step %v", s.SeriesStep, s.Step())
	}
	s, err = Parse("x.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if s.SeriesStep != 0 || s.Step() != 10*time.Millisecond {
		t.Errorf("no series_step on a 10s run: field %v, Step %v, want 0 and 10ms", s.SeriesStep, s.Step())
	}
}
