//go:build !linux

package budget

// addressSpace returns the process's address-space limit; it is read on
// Linux only, like the rest of the machine's memory.
func addressSpace() (float64, bool) { return 0, false }
