// Package workloads holds the random processes that drive a simulation:
// latency distributions (fixed, exponential, lognormal fitted to a median
// and a p99), Poisson arrivals, bursts of requests spread over a window, and
// key popularity (Zipf over K keys).
//
// Each sampler draws from a *rand.Rand the caller owns (one seeded stream per
// component, see sim.Streams), allocates nothing per draw and never reads a
// clock.
package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/stampsim/stampsim/scenarios"
)

// DistKind names a family of distributions.
type DistKind uint8

// The families.
const (
	Fixed DistKind = iota
	Exponential
	LogNormal
)

// Dist is a distribution of durations.
type Dist struct {
	kind      DistKind
	value     float64 // fixed: the value; exponential: the mean (ns)
	mu, sigma float64 // lognormal parameters of ln(ns)
}

// z99 is the standard normal's 99th percentile.
var z99 = distuv.UnitNormal.Quantile(0.99)

// NewFixed returns the distribution that is always d.
func NewFixed(d time.Duration) Dist { return Dist{kind: Fixed, value: float64(d)} }

// NewExponential returns the exponential distribution with the given mean.
func NewExponential(mean time.Duration) Dist { return Dist{kind: Exponential, value: float64(mean)} }

// NewLogNormal returns the lognormal distribution with the given median and
// 99th percentile. p99 must not be below the median; equal means fixed.
func NewLogNormal(median, p99 time.Duration) (Dist, error) {
	if median <= 0 || p99 < median {
		return Dist{}, fmt.Errorf("lognormal needs 0 < median <= p99, got median %v, p99 %v", median, p99)
	}
	mu := math.Log(float64(median))
	return Dist{kind: LogNormal, mu: mu, sigma: (math.Log(float64(p99)) - mu) / z99}, nil
}

// FromSpec returns the distribution a scenario describes.
func FromSpec(s scenarios.Dist) (Dist, error) {
	switch s.Dist {
	case "fixed":
		if s.Value < 0 {
			return Dist{}, fmt.Errorf("fixed value must not be negative, got %v", s.Value.D())
		}
		return NewFixed(s.Value.D()), nil
	case "exponential":
		if s.Mean <= 0 {
			return Dist{}, fmt.Errorf("exponential mean must be positive, got %v", s.Mean.D())
		}
		return NewExponential(s.Mean.D()), nil
	case "lognormal":
		return NewLogNormal(s.Median.D(), s.P99.D())
	}
	return Dist{}, fmt.Errorf("unknown distribution %q (want fixed, exponential or lognormal)", s.Dist)
}

// Sample draws one duration.
func (d Dist) Sample(r *rand.Rand) time.Duration {
	switch d.kind {
	case Exponential:
		return time.Duration(r.ExpFloat64() * d.value)
	case LogNormal:
		return time.Duration(math.Exp(d.mu + d.sigma*r.NormFloat64()))
	}
	return time.Duration(d.value)
}

// Mean returns the distribution's mean.
func (d Dist) Mean() time.Duration {
	if d.kind == LogNormal {
		return time.Duration(math.Exp(d.mu + d.sigma*d.sigma/2))
	}
	return time.Duration(d.value)
}

// Quantile returns the duration below which a fraction p of draws fall.
func (d Dist) Quantile(p float64) time.Duration {
	switch d.kind {
	case Exponential:
		return time.Duration(distuv.Exponential{Rate: 1 / d.value}.Quantile(p))
	case LogNormal:
		return time.Duration(distuv.LogNormal{Mu: d.mu, Sigma: d.sigma}.Quantile(p))
	}
	return time.Duration(d.value)
}
