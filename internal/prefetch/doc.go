// Package prefetch asks the CPU to start loading a cache line ahead of its
// use. The simulator touches state spread over hundreds of machines and
// stores, and most of its time would be spent waiting for memory if it did
// not announce the next lines it needs while it works on the current ones.
//
// Line is a hint: it never changes what a program computes, never faults
// (an invalid address is ignored by the CPU), and does nothing on
// architectures without an assembly version here. It must not be used to
// order memory or to synchronise anything.
package prefetch

import "unsafe"

// At asks the CPU to start loading the cache line that holds *p; see Line.
// It lets callers prefetch without importing unsafe.
func At[T any](p *T) { Line(unsafe.Pointer(p)) }

// Object asks the CPU to start loading every cache line that holds part of
// *p; see Line.
func Object[T any](p *T) {
	start := uintptr(unsafe.Pointer(p))
	end := start + unsafe.Sizeof(*p)
	Lines(unsafe.Pointer(p), (end+63)/64-start/64)
}
