//go:build !amd64 && !arm64

package prefetch

import "unsafe"

// Line does nothing on this architecture; see prefetch.go.
func Line(unsafe.Pointer) {}

// Lines does nothing on this architecture; see prefetch.go.
func Lines(unsafe.Pointer, uintptr) {}
