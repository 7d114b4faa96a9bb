package plot

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
)

// -look DIR also writes the figures of every case of TestWriteAll under
// DIR, one directory a case, to be looked at:
//
//	go test ./reports/plot -run TestWriteAll -args -look /tmp/figures
var lookDir = flag.String("look", "", "also write the figures of every TestWriteAll case under this directory")

// lookAt returns the directory to write the figures of test case name
// into: under -look when it is set, else a temporary one.
func lookAt(t *testing.T, name string) string {
	if *lookDir == "" {
		return t.TempDir()
	}
	return filepath.Join(*lookDir, strings.NewReplacer(" ", "-", ",", "", ":", "").Replace(name))
}
