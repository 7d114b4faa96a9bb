package scenarios

import "fmt"

// Error is a mistake in a scenario file: which file, which line (1-based; 0
// when unknown), which field (a path such as "workload.bursts[0].at"; empty
// for the document as a whole) and what is wrong with it.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats the error as "file:line: field: message", the way compilers
// do, so that editors can jump to it.
func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field == "" {
		return loc + ": " + e.Msg
	}
	return loc + ": " + e.Field + ": " + e.Msg
}
