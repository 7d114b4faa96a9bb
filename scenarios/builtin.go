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

// builtins are the built-in scenarios, by name.
var builtins = Embedded{FS: builtinFS, Dir: "builtin", Noun: "scenario"}

// BuiltinNames returns the names of the built-in scenarios, sorted.
func BuiltinNames() []string { return builtins.Names() }

// BuiltinSource returns the text of the built-in scenario called name, as
// it is written in scenarios/builtin/NAME.yaml.
func BuiltinSource(name string) ([]byte, error) { return builtins.Source(name) }

// Embedded is a directory of YAML files embedded in the binary, each a
// built-in of a kind of file (Noun: "scenario", "sweep") named by its file
// name without .yaml.
type Embedded struct {
	FS   fs.FS
	Dir  string
	Noun string
}

// Names returns the names of the built-ins, sorted.
func (e Embedded) Names() []string {
	entries, err := fs.ReadDir(e.FS, e.Dir)
	if err != nil {
		panic(fmt.Sprintf("embedded built-in %ss unreadable: %v", e.Noun, err))
	}
	var names []string
	for _, en := range entries {
		if name, ok := strings.CutSuffix(en.Name(), ".yaml"); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// Source returns the text of the built-in called name. An unknown name is
// a *NotFoundError that suggests the closest name, or lists them.
func (e Embedded) Source(name string) ([]byte, error) {
	data, err := fs.ReadFile(e.FS, path.Join(e.Dir, name+".yaml"))
	if err != nil || strings.ContainsAny(name, "/\\") {
		msg := fmt.Sprintf("no built-in %s %q (built-in: %s)", e.Noun, name, strings.Join(e.Names(), ", "))
		if s := suggest(name, e.Names()); s != "" {
			msg = fmt.Sprintf("no built-in %s %q (did you mean %q?)", e.Noun, name, s)
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
