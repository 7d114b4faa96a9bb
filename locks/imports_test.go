package locks_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowedImports are the only packages the protocol may use: none of them
// does I/O, reads a clock or starts goroutines (time is allowed for its
// Duration type only, checked below).
var allowedImports = map[string]bool{
	"cmp":          true,
	"errors":       true,
	"fmt":          true,
	"math":         true,
	"math/bits":    true,
	"math/rand/v2": true,
	"slices":       true,
	"sort":         true,
	"strconv":      true,
	"strings":      true,
	"time":         true,
	"unicode/utf8": true,
	// A hint to the CPU cache (SimHooks.Prefetch): no I/O, no clock.
	"github.com/stampsim/stampsim/internal/prefetch": true,
}

// forbiddenTime are the functions of package time that read the clock,
// sleep or start timers.
var forbiddenTime = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
	"AfterFunc": true, "NewTimer": true, "NewTicker": true, "Tick": true,
}

// The package must not do I/O, read a clock, sleep or start goroutines: all
// of that belongs to its drivers. This reads its non-test sources and fails
// on any import outside the allow-list, any use of time's clock functions,
// and any go statement.
func TestPackageDoesNoIO(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		timeName := ""
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if !allowedImports[p] {
				t.Errorf("%s: imports %q, which is not in the allow-list of packages without I/O", fset.Position(imp.Pos()), p)
			}
			if p == "time" {
				timeName = path.Base(p)
				if imp.Name != nil {
					timeName = imp.Name.Name
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: go statement: the machine must not start goroutines", fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && timeName != "" && id.Name == timeName && forbiddenTime[n.Sel.Name] {
					t.Errorf("%s: time.%s: the machine must not read the clock, sleep or set timers", fset.Position(n.Pos()), n.Sel.Name)
				}
			}
			return true
		})
	}
	if checked < 4 {
		t.Fatalf("checked %d source files, want the package's (doc, machine, topology, types)", checked)
	}
}
