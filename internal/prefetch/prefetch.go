//go:build amd64 || arm64

package prefetch

import "unsafe"

// Line asks the CPU to start loading the cache line that holds p into its
// caches, and returns at once without waiting for it. It is written in
// assembly (prefetch_$GOARCH.s) because Go has no portable prefetch.
//
//go:noescape
func Line(p unsafe.Pointer)
