package validate

import (
	"syscall"
	"time"
)

// preciseSleep sleeps for d in nanosleep, which the kernel ends within tens
// of microseconds, where a Go timer can take a millisecond. It blocks its
// thread; the runtime runs other goroutines on others meanwhile.
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
