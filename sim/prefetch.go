//go:build amd64 || arm64

package sim

// prefetch asks the CPU to start loading the cache line that holds *p into
// its caches, and returns at once without waiting for it. It is a hint: it
// has no effect on what the program computes. It is written in assembly
// (prefetch_$GOARCH.s) because Go has no portable prefetch.
//
//go:noescape
func prefetch(p *slot)
