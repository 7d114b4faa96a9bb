//go:build amd64 || arm64

package prefetch

import "unsafe"

// Line asks the CPU to start loading the cache line that holds p into its
// caches, and returns at once without waiting for it. It is written in
// assembly (prefetch_$GOARCH.s) because Go has no portable prefetch.
//
//go:noescape
func Line(p unsafe.Pointer)

// Lines is Line for the n cache lines that start with the one holding p:
// 64-byte lines at p, p+64, and so on.
//
//go:noescape
func Lines(p unsafe.Pointer, n uintptr)
