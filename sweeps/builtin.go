package sweeps

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/stampsim/stampsim/scenarios"
)

// builtinFS holds the built-in sweeps: ordinary sweep files, also in the
// source tree under sweeps/builtin/, so that they can be read, copied and
// run from disk as well. They name built-in scenarios or write their base
// inline, so that they need no other file.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// BuiltinNames returns the names of the built-in sweeps, sorted.
func BuiltinNames() []string {
	entries, err := fs.ReadDir(builtinFS, "builtin")
	if err != nil {
		panic(fmt.Sprintf("sweeps: embedded built-ins unreadable: %v", err))
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

// BuiltinSource returns the text of the built-in sweep called name, as it
// is written in sweeps/builtin/NAME.yaml. An unknown name is a
// *scenarios.NotFoundError that lists the names or suggests the closest.
func BuiltinSource(name string) ([]byte, error) {
	data, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	if err != nil || strings.ContainsAny(name, "/\\") {
		msg := fmt.Sprintf("no built-in sweep %q (built-in: %s)", name, strings.Join(BuiltinNames(), ", "))
		if s := scenarios.Suggest(name, BuiltinNames()); s != "" {
			msg = fmt.Sprintf("no built-in sweep %q (did you mean %q?)", name, s)
		}
		return nil, &scenarios.NotFoundError{Name: name, Msg: msg}
	}
	return data, nil
}

// Builtin returns the built-in sweep called name at size, read and checked
// like a file (errors name builtin/NAME.yaml).
func Builtin(name, size string) (*Sweep, error) {
	data, err := BuiltinSource(name)
	if err != nil {
		return nil, err
	}
	return Parse(path.Join("builtin", name+".yaml"), data, Options{Size: size})
}
