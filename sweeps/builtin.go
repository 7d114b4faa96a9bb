package sweeps

import (
	"embed"
	"path"

	"github.com/stampsim/stampsim/scenarios"
)

// builtinFS holds the built-in sweeps: ordinary sweep files, also in the
// source tree under sweeps/builtin/, so that they can be read, copied and
// run from disk as well. They name built-in scenarios or write their base
// inline, so that they need no other file.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// builtins are the built-in sweeps, by name.
var builtins = scenarios.Embedded{FS: builtinFS, Dir: "builtin", Noun: "sweep"}

// BuiltinNames returns the names of the built-in sweeps, sorted.
func BuiltinNames() []string { return builtins.Names() }

// BuiltinSource returns the text of the built-in sweep called name, as it
// is written in sweeps/builtin/NAME.yaml. An unknown name is a
// *scenarios.NotFoundError that suggests the closest name, or lists them.
func BuiltinSource(name string) ([]byte, error) { return builtins.Source(name) }

// Builtin returns the built-in sweep called name at size, read and checked
// like a file (errors name builtin/NAME.yaml).
func Builtin(name, size string) (*Sweep, error) {
	data, err := BuiltinSource(name)
	if err != nil {
		return nil, err
	}
	return Parse(path.Join("builtin", name+".yaml"), data, Options{Size: size})
}
