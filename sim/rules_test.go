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
// storage has grown, executing and scheduling events allocates nothing,
// with the queue in the binary heap and in the radix heap. The radix heap's
// chunk lists pass from one bucket to the next, so time moving on into
// larger powers of two allocates nothing either.
func TestNoAllocationPerEvent(t *testing.T) {
	for _, c := range []struct {
		name           string
		pending        int
		delay, redelay int // the handler schedules k%delay ahead, and every third time cancels it for k%redelay
		bigAt, smallAt int // 0: the defaults
		warm, per      uint64
		wantBig        bool
	}{
		{name: "binary heap", pending: 1000, delay: 97, redelay: 89, warm: 100000, per: 10000},
		{name: "radix heap", pending: 30000, delay: 9973, redelay: 8191, bigAt: 1000, smallAt: 100,
			warm: 1000000, per: 100000, wantBig: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var e *Engine
			k := 0
			e = New(func(now Time, ev Event) {
				k++
				id := e.After(Time(k%c.delay), ev)
				if k%3 == 0 {
					e.Cancel(id)
					e.After(Time(k%c.redelay), ev)
				}
			})
			if c.bigAt > 0 {
				e.bigAt, e.smallAt = c.bigAt, c.smallAt
			}
			for i := range c.pending {
				e.At(Time(i), ev(int32(i)))
			}
			e.Run(Forever, c.warm)
			if e.big != c.wantBig {
				t.Fatalf("with %d events pending the queue is in the radix heap: %v, want %v", e.Pending(), e.big, c.wantBig)
			}
			if allocs := testing.AllocsPerRun(10, func() { e.Run(Forever, c.per) }); allocs != 0 {
				t.Errorf("running %d events allocated %v times, want 0", c.per, allocs)
			}
		})
	}
}
