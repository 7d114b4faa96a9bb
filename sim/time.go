package sim

import (
	"math"
	"time"
)

// Time is a virtual instant: nanoseconds since the start of a run. It is
// also used for virtual durations (the argument of [Engine.After]), in the
// same way that the time package uses Duration for both.
type Time int64

// Common virtual durations, mirroring the time package.
const (
	Nanosecond  Time = 1
	Microsecond      = 1000 * Nanosecond
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
	Minute           = 60 * Second
	Hour             = 60 * Minute
)

// Forever is the largest Time. Passed as the limit to [Engine.Run] it means
// "no time limit".
const Forever Time = math.MaxInt64

// FromDuration converts a [time.Duration] to a virtual Time (or virtual
// duration). The conversion is exact: both count nanoseconds.
func FromDuration(d time.Duration) Time { return Time(d) }

// Duration converts t to a [time.Duration], exactly.
func (t Time) Duration() time.Duration { return time.Duration(t) }

// String formats t the way [time.Duration.String] does, for example "1.5s",
// and formats [Forever] as "forever".
func (t Time) String() string {
	if t == Forever {
		return "forever"
	}
	return time.Duration(t).String()
}
