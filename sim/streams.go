package sim

import "math/rand/v2"

// Streams hands out independent, reproducible random streams, one per named
// component, all derived from one seed.
//
// A stream's sequence depends only on the seed and the component's name, so
// adding, removing or reordering components never changes the draws of
// another, and nothing depends on the order in which streams are asked for.
// A Streams value holds no other state and is safe for concurrent use.
type Streams struct {
	seed uint64
}

// NewStreams returns the streams derived from seed.
func NewStreams(seed uint64) *Streams { return &Streams{seed: seed} }

// Seed returns the seed the streams are derived from.
func (s *Streams) Seed() uint64 { return s.seed }

// Stream returns a new generator for the component called name: a
// math/rand/v2 PCG seeded from the seed and a stable 64-bit FNV-1a hash of
// name, mixed with splitmix64.
//
// Streams keeps no cache: every call returns a fresh generator that starts
// at the beginning of the same sequence. A component should call Stream once
// and keep the generator; two components that share a name share a sequence,
// which is almost always a mistake, so give each its own name (for example
// "upstream" or "node/17/jitter").
func (s *Streams) Stream(name string) *rand.Rand {
	h := fnv1a(name)
	hi := splitmix64(s.seed ^ splitmix64(h))
	lo := splitmix64(hi ^ 0x6a09e667f3bcc909) // any odd constant: decorrelates the two halves
	return rand.New(rand.NewPCG(hi, lo))
}

// fnv1a is the 64-bit FNV-1a hash of name. It is written out here rather
// than taken from hash/fnv so that it cannot change and does not allocate.
func fnv1a(name string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= prime
	}
	return h
}

// splitmix64 is the finaliser of Steele, Lea and Flood's SplitMix64: a
// bijection on uint64 whose outputs look independent for related inputs.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
