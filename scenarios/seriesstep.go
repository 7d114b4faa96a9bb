package scenarios

import (
	"fmt"
	"time"
)

// The limits of a series step.
const (
	// MinSeriesStep is the finest series step: a millisecond resolves a
	// 100 ms flash crowd into a hundred samples, and finer steps would
	// only show the network's jitter.
	MinSeriesStep = Duration(time.Millisecond)
	// SeriesPoints is about how many samples DefaultSeriesStep gives over
	// a run's duration: enough for a figure as wide as a screen.
	SeriesPoints = 1000
)

// DefaultSeriesStep returns the series step for a run of duration d: the
// smallest of 1ms, 2ms, 5ms, 10ms, 20ms, 50ms, 100ms, ... 1s, 2s, 5s, 10s,
// ... that gives at most SeriesPoints samples over d (so between 400 and
// 1,000 of them for a run of a second or more), and never less than
// MinSeriesStep. flash-crowd's 5s get
// 5ms, twenty samples in its 100ms burst.
func DefaultSeriesStep(d time.Duration) Duration {
	// ceil(d / SeriesPoints), without the overflow of step*SeriesPoints
	// (or of d+SeriesPoints-1) for durations near time.Duration's limit.
	need := d / SeriesPoints
	if d%SeriesPoints != 0 {
		need++
	}
	for decade := time.Duration(MinSeriesStep); ; decade *= 10 {
		for _, m := range [...]time.Duration{1, 2, 5} {
			if s := m * decade; s >= need {
				return Duration(s)
			}
		}
	}
}

// Step returns the series step a run of s uses: SeriesStep, or the
// default for its duration when the file leaves it out.
func (s *Scenario) Step() time.Duration {
	if s.SeriesStep != 0 {
		return s.SeriesStep.D()
	}
	return DefaultSeriesStep(s.Duration.D()).D()
}

// CheckSeriesStep checks a series step for a run of duration: positive, at
// least MinSeriesStep, and no longer than the run. The checks of a
// scenario's series_step and of stampsim run --series-step both use it, so
// that the file and the flag take the same values.
func CheckSeriesStep(step, duration Duration) error {
	switch {
	case step <= 0:
		return fmt.Errorf("must be positive, got %v", step)
	case step < MinSeriesStep:
		return fmt.Errorf("must be at least %v (the finest step the series keep), got %v", MinSeriesStep, step)
	case step > duration:
		return fmt.Errorf("%v is longer than the duration, %v: the series would have a single sample "+
			"(without a step of its own, a run gets about %d samples, %v each)", step, duration, SeriesPoints, DefaultSeriesStep(duration.D()))
	}
	return nil
}
