//go:build !amd64 && !arm64

package sim

// prefetch does nothing on this architecture; see prefetch.go.
func prefetch(*slot) {}
