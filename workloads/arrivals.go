package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Poisson is a Poisson arrival process.
type Poisson struct {
	mean float64 // mean gap, ns
}

// NewPoisson returns arrivals at rate per second; rate must be positive.
func NewPoisson(rate float64) (Poisson, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return Poisson{}, fmt.Errorf("arrival rate must be a positive number, got %v", rate)
	}
	return Poisson{mean: 1e9 / rate}, nil
}

// Next returns the gap to the next arrival.
func (p Poisson) Next(r *rand.Rand) time.Duration {
	return time.Duration(r.ExpFloat64() * p.mean)
}

// Spread places exactly N points uniformly at random over a window, one at a
// time and in increasing order, in constant memory: the next point is the
// minimum of the remaining uniform points over what is left of the window.
type Spread struct {
	left   int
	pos    float64 // ns from the window's start
	window float64
}

// NewSpread returns n points over window.
func NewSpread(n int, window time.Duration) Spread {
	return Spread{left: n, window: float64(window)}
}

// Left returns how many points are still to come.
func (s *Spread) Left() int { return s.left }

// Next returns the next point's offset from the window's start, and false
// when none are left.
func (s *Spread) Next(r *rand.Rand) (time.Duration, bool) {
	if s.left <= 0 {
		return 0, false
	}
	// The minimum of k uniforms on [0,1) is 1 - U^(1/k).
	u := 1 - r.Float64()
	if s.window == 0 {
		// Every point is at 0 (0 × the finite factor below), but the draw
		// above stays: the stream's later draws must not move. Skipping
		// math.Pow saves some 200 instructions a request of a burst that
		// arrives at once, a tenth of a small stampede's run.
		s.left--
		return 0, true
	}
	s.pos += (s.window - s.pos) * (1 - math.Pow(u, 1/float64(s.left)))
	s.left--
	return time.Duration(s.pos), true
}
