package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

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
// do, so that editors can jump to it. Without a file (a scenario built in
// code) it is "field: message".
func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	msg := e.Msg
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if loc == "" {
		return msg
	}
	return loc + ": " + msg
}

// MaxErrors is the most mistakes reported for one file. Past the first
// few, later ones are often consequences of earlier ones, and a screenful
// is as much as anyone fixes in one go.
const MaxErrors = 10

// ErrorList is every mistake found in one file (at most MaxErrors of them),
// in line order, and how many more there were. errors.As finds its first
// *Error, so a caller that handles one mistake handles a list the same way.
type ErrorList struct {
	Errors  []*Error
	Omitted int
}

// Error formats the list one mistake to a line, each as *Error does, and
// says how many were left out.
func (l *ErrorList) Error() string {
	lines := make([]string, 0, len(l.Errors)+1)
	for _, e := range l.Errors {
		lines = append(lines, e.Error())
	}
	if l.Omitted > 0 && len(l.Errors) > 0 {
		lines = append(lines, fmt.Sprintf("%s: %d more mistakes not shown (fix these first)", l.Errors[0].File, l.Omitted))
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the mistakes, for errors.Is and errors.As.
func (l *ErrorList) Unwrap() []error {
	errs := make([]error, len(l.Errors))
	for i, e := range l.Errors {
		errs[i] = e
	}
	return errs
}

// JoinErrors returns the mistakes errs holds as one error: nil for none, the
// *Error itself for one, an *ErrorList in line order (mistakes on one line
// in the order given) for several, keeping the first MaxErrors.
func JoinErrors(errs []*Error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	sorted := slices.Clone(errs)
	slices.SortStableFunc(sorted, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	l := &ErrorList{Errors: sorted}
	if len(sorted) > MaxErrors {
		l.Errors, l.Omitted = sorted[:MaxErrors], len(sorted)-MaxErrors
	}
	return l
}
