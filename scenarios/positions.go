package scenarios

import (
	"fmt"
	"os"
	"path"
	"strings"
)

// Positions records where each field of a scenario file was written, so
// that a check made after loading (the cost limits of package budget, a
// flag that overrides the file) can report its mistake at the line it is
// about, in the same "file:line: field: message" shape as the file's own
// mistakes. A nil *Positions knows no lines: its errors name the field
// only, which is what a scenario built in code gets.
type Positions struct {
	file  string
	lines map[string]int
}

// File returns the name of the file the positions are in.
func (p *Positions) File() string {
	if p == nil {
		return ""
	}
	return p.file
}

// Line returns the line of field (a path such as "workload.bursts[0].at"),
// or, for a field the file does not write, of its closest parent that it
// does; 0 when there is none.
func (p *Positions) Line(field string) int {
	if p == nil {
		return 0
	}
	for {
		if l, ok := p.lines[field]; ok {
			return l
		}
		if field == "" {
			return 0
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			field = ""
		} else {
			field = field[:i]
		}
	}
}

// Errorf returns the *Error for a mistake in field, at its line.
func (p *Positions) Errorf(field, format string, args ...any) *Error {
	return &Error{File: p.File(), Line: p.Line(field), Field: field, Msg: fmt.Sprintf(format, args...)}
}

// LoadPositions is Load that also returns where each field was written.
func LoadPositions(file string) (*Scenario, *Positions, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	return ParsePositions(file, data)
}

// BuiltinPositions is Builtin that also returns where each field was
// written (in builtin/NAME.yaml).
func BuiltinPositions(name string) (*Scenario, *Positions, error) {
	data, err := BuiltinSource(name)
	if err != nil {
		return nil, nil, err
	}
	return ParsePositions(path.Join("builtin", name+".yaml"), data)
}

// Has reports whether the file writes field itself (a path such as
// "locks.wait_timeout"), as opposed to a field inside it or around it.
func (p *Positions) Has(field string) bool {
	if p == nil {
		return false
	}
	_, ok := p.lines[field]
	return ok
}
