package budget

import "syscall"

// addressSpace returns the process's address-space limit (ulimit -v), if
// it has one.
func addressSpace() (float64, bool) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &l); err != nil || l.Cur == ^uint64(0) { // RLIM_INFINITY
		return 0, false
	}
	return float64(l.Cur), true
}
