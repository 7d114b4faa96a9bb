package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// builtinFS holds the built-in scenarios. They are ordinary scenario files,
// also present in the source tree under scenarios/builtin/, so that they can
// be read, copied and run from disk as well.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// DefaultBuiltin is the built-in scenario run when none is named.
const DefaultBuiltin = "flash-crowd"

// BuiltinNames returns the names of the built-in scenarios, sorted.
func BuiltinNames() []string {
	entries, err := fs.ReadDir(builtinFS, "builtin")
	if err != nil {
		panic(fmt.Sprintf("scenarios: embedded built-ins unreadable: %v", err))
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// BuiltinSource returns the text of the built-in scenario called name, as
// it is written in scenarios/builtin/NAME.yaml.
func BuiltinSource(name string) ([]byte, error) {
	data, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	if err != nil || strings.ContainsAny(name, "/\\") {
		msg := fmt.Sprintf("no built-in scenario %q (built-in: %s)", name, strings.Join(BuiltinNames(), ", "))
		if s := suggest(name, BuiltinNames()); s != "" {
			msg = fmt.Sprintf("no built-in scenario %q (did you mean %q?)", name, s)
		}
		return nil, &NotFoundError{Name: name, Msg: msg}
	}
	return data, nil
}

// Builtin returns the built-in scenario called name, loaded and validated
// like a file (errors name builtin/NAME.yaml). An unknown name is a
// *NotFoundError.
func Builtin(name string) (*Scenario, error) {
	data, err := BuiltinSource(name)
	if err != nil {
		return nil, err
	}
	return Parse(path.Join("builtin", name+".yaml"), data)
}

// NotFoundError says that no built-in scenario has the name asked for.
type NotFoundError struct {
	Name string
	Msg  string
}

// Error returns the message, which lists the built-in names or suggests
// the closest one.
func (e *NotFoundError) Error() string { return e.Msg }
