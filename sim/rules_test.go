package sim

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoWallClockNoGoroutines enforces the package's promise: its code
// (tests aside) never reads the wall clock, sleeps or sets real timers, and
// starts no goroutines.
func TestNoWallClockNoGoroutines(t *testing.T) {
	forbidden := map[string]bool{
		"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
		"AfterFunc": true, "Tick": true, "NewTimer": true, "NewTicker": true,
	}
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
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		timeName := ""
		for _, imp := range f.Imports {
			switch path := strings.Trim(imp.Path.Value, `"`); path {
			case "time":
				timeName = "time"
				if imp.Name != nil {
					timeName = imp.Name.Name
				}
			case "sync", "sync/atomic", "os", "net", "runtime":
				t.Errorf("%s imports %q; the engine is single-threaded and does no I/O", fset.Position(imp.Pos()), path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: a go statement; the engine must start no goroutines", fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && timeName != "" && id.Name == timeName && forbidden[n.Sel.Name] {
					t.Errorf("%s: time.%s reads or waits on the wall clock", fset.Position(n.Pos()), n.Sel.Name)
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("found no source files to check")
	}
}

// TestNoAllocationPerEvent checks the engine's steady state: once its
// storage has grown, executing and scheduling events allocates nothing.
func TestNoAllocationPerEvent(t *testing.T) {
	var e *Engine
	k := 0
	e = New(func(now Time, ev Event) {
		k++
		id := e.After(Time(k%97), ev)
		if k%3 == 0 {
			e.Cancel(id)
			e.After(Time(k%89), ev)
		}
	})
	for i := range 1000 {
		e.At(Time(i), ev(int32(i)))
	}
	e.Run(Forever, 100000) // warm up
	if allocs := testing.AllocsPerRun(10, func() { e.Run(Forever, 10000) }); allocs != 0 {
		t.Errorf("running 10000 events allocated %v times, want 0", allocs)
	}
}
