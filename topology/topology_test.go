package topology

import (
	"strings"
	"testing"
)

func TestIDsRoundTrip(t *testing.T) {
	s := Shape{Regions: 3, ZonesPerRegion: 2, NodesPerZone: 5}
	seen := map[string]bool{}
	for id := 0; id < s.Nodes(); id++ {
		n := s.Node(id)
		if got := s.ID(n); got != id {
			t.Fatalf("ID(Node(%d)) = %d", id, got)
		}
		if got := s.RegionID(id); got != n.Region {
			t.Fatalf("RegionID(%d) = %d, want %d", id, got, n.Region)
		}
		if got := s.ZoneID(id); got != n.Region*s.ZonesPerRegion+n.Zone {
			t.Fatalf("ZoneID(%d) = %d", id, got)
		}
		p, err := s.ParseNode(n.Name())
		if err != nil || p != n {
			t.Fatalf("ParseNode(%q) = %v, %v", n.Name(), p, err)
		}
		seen[n.Name()] = true
	}
	if len(seen) != s.Nodes() {
		t.Fatalf("%d distinct names for %d nodes", len(seen), s.Nodes())
	}
}

func TestParseNodeErrors(t *testing.T) {
	s := Shape{Regions: 2, ZonesPerRegion: 2, NodesPerZone: 4}
	for _, tc := range []struct{ name, want string }{
		{"r0/z0", "want the form"},
		{"x0/z0/n0", `part "x0"`},
		{"r0/z0/n-1", `part "n-1"`},
		{"r2/z0/n0", "there are 2 regions"},
		{"r0/z2/n0", "2 zones per region"},
		{"r0/z0/n4", "4 nodes per zone"},
	} {
		_, err := s.ParseNode(tc.name)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseNode(%q) = %v, want error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, s := range []Shape{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}} {
		if s.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want error", s)
		}
	}
	if err := (Shape{1, 1, 1}).Validate(); err != nil {
		t.Errorf("Validate(1,1,1) = %v", err)
	}
}

func TestStoreOf(t *testing.T) {
	s := Shape{Regions: 3, ZonesPerRegion: 2, NodesPerZone: 5}
	seen := map[int]bool{}
	for id := 0; id < s.Nodes(); id++ {
		n := s.Node(id)
		want := map[Scope]int{
			ScopeZone:   n.Region*s.ZonesPerRegion + n.Zone,
			ScopeRegion: s.Zones() + n.Region,
			ScopeGlobal: s.Zones() + s.Regions,
		}
		for scope, w := range want {
			got := s.StoreOf(id, scope)
			if got != w {
				t.Fatalf("StoreOf(%d, %d) = %d, want %d", id, scope, got, w)
			}
			seen[got] = true
		}
		if got := s.StoreOf(id, 0); got != -1 {
			t.Fatalf("StoreOf(%d, 0) = %d, want -1", id, got)
		}
	}
	if len(seen) != s.Stores() {
		t.Fatalf("%d distinct stores, Stores() = %d", len(seen), s.Stores())
	}
	for i := range s.Stores() {
		if !seen[i] {
			t.Fatalf("no node is served by store %d of %d", i, s.Stores())
		}
	}
}
