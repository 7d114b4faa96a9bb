package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// tableCases are results documents whose tables show each thing the table
// must explain, each with its golden file under testdata/.
var tableCases = []struct {
	name   string
	golden string
	edit   func(res *Results)
	// want are substrings of the table, absent what must not be in it,
	// both compared with every run of spaces and line breaks as one space
	// (the legend and the notes are wrapped).
	want, absent []string
}{
	{
		name: "complete", golden: "table.golden",
		edit: func(*Results) {},
		want: []string{
			"flash-crowd, seed 1: 5s of traffic on 60 nodes (3 regions of 2 zones of 10 nodes)\n",
			"UPSTREAM CALLS", "P99 MS", "PEAK STORE OPS/S",
			"DUPLICATES Upstream calls", "PEAK CONTENDERS Per lock level", "UNFINISHED Requests still waiting",
		},
		// Zero in every run: the fencing and lease counts are left out,
		// and with nothing unfinished there is no note.
		absent: []string{"WRITES REFUSED", "LEASES LOST", "HEDGED", "STALE", "REVALIDATING", "Note:", "incomplete"},
	},
	{
		// flash-crowd's none, as it ran: most requests still waiting after
		// the minute's drain, and the half that finished took longer than
		// the whole scenario.
		name: "unfinished", golden: "table.unfinished.golden",
		edit: func(res *Results) {
			r := &res.Runs[0]
			r.Unfinished, r.SimSeconds = 72032, 65
			r.LatencyMs.P50, r.LatencyMs.P99 = 28016.639, 63242.239
		},
		want: []string{
			"Note: none: 72032 of 100000 requests had not finished when the run stopped, at 1m5s of simulated time.",
			"The traffic lasted 5s; the run went on 1m more for waiting requests to finish.",
			"P50 and P99 are those of the 27968 that finished",
			"Half of those took longer than the whole scenario (P50 28017 ms, more than 5s)",
		},
		absent: []string{"two-level: "},
	},
	{
		// holder-pause's counts: a refused write and a lost lease are
		// shown, with their legends, in their own columns.
		name: "fencing", golden: "table.fencing.golden",
		edit: func(res *Results) {
			res.Runs[1].WritesRefused, res.Runs[1].LeasesLost = 1, 2
			res.Runs[0].Served.Hedged, res.Runs[1].Served.Stale = 5, 7
			res.Runs[1].Served.Revalidating = 9
		},
		want: []string{
			"UNFINISHED WRITES REFUSED LEASES LOST HEDGED STALE REVALIDATING none",
			"REVALIDATING Requests served a value past its soft TTL",
			"WRITES REFUSED Values a lock holder wrote", "LEASES LOST Lease renewals", "HEDGED Requests served by a hedge", "STALE Requests served the node cache's expired value",
		},
	},
	{
		name: "interrupted", golden: "table.interrupted.golden",
		edit: func(res *Results) {
			res.Complete = false
			r := &res.Runs[1]
			r.Interrupted, r.SimSeconds, r.Unfinished = true, 1.2504, 10
		},
		want: []string{
			"; incomplete: interrupted",
			"two-level (interrupted at 1.25s) ",
			// An interrupted run did not drain: no drain is claimed.
			"Note: two-level: 10 of 100000 requests had not finished when the run stopped, at 1.25s",
		},
		absent: []string{"the run went on"},
	},
}

func TestWriteTable(t *testing.T) {
	for _, c := range tableCases {
		t.Run(c.name, func(t *testing.T) {
			res := sampleResults(t)
			c.edit(res)
			var b bytes.Buffer
			if err := WriteTable(&b, res); err != nil {
				t.Fatal(err)
			}
			golden(t, c.golden, b.Bytes())
			out := b.String()
			flat := strings.Join(strings.Fields(out), " ")
			for _, w := range c.want {
				if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("the table lacks %q:\n%s", w, out)
				}
			}
			for _, a := range c.absent {
				if strings.Contains(flat, a) {
					t.Errorf("the table has %q:\n%s", a, out)
				}
			}
			// The header and the rows (after the title and a blank line)
			// are equally wide: the columns line up.
			lines := strings.Split(out, "\n")
			rows := lines[2 : 3+len(res.Runs)]
			for _, l := range rows[1:] {
				if len(l) != len(rows[0]) {
					t.Errorf("row %q is not as wide as the header %q", l, rows[0])
				}
			}
			// The prose under the rows fits a terminal.
			for _, l := range lines[3+len(res.Runs):] {
				if len(l) > textWidth {
					t.Errorf("line of %d bytes, more than %d: %q", len(l), textWidth, l)
				}
			}
		})
	}
}

// Every column shown in the table has a legend, and every count that the
// table may leave out is one that is zero in every run.
func TestSummaryColumns(t *testing.T) {
	res := sampleResults(t)
	s := NewSummary(res)
	for _, c := range s.Columns {
		if c.Name == "" || !strings.HasSuffix(c.Legend, ".") || c.csv == "" {
			t.Errorf("column %+v: want a name, a legend in a sentence and a CSV header", c)
		}
	}
	if len(s.Rows) != len(res.Runs) {
		t.Fatalf("%d rows for %d runs", len(s.Rows), len(res.Runs))
	}
	for _, c := range columns {
		if c.optional && (c.value == nil || c.text != nil) {
			t.Errorf("optional column %s must be a count, to tell when it is zero", c.Name)
		}
	}
	if len(s.Columns) != len(columns)-5 {
		t.Errorf("%d columns shown, want all but the five zero counts", len(s.Columns))
	}
}

func TestTitleWithoutSpec(t *testing.T) {
	res := &Results{Scenario: "mine", Seed: 9, Complete: true}
	if got := Title(res); got != "mine, seed 9" {
		t.Errorf("Title = %q", got)
	}
	res.Spec = sampleResults(t).Spec
	res.Spec.Topology.Regions, res.Spec.Topology.ZonesPerRegion, res.Spec.Topology.NodesPerZone = 1, 1, 1
	if got := Title(res); got != "mine, seed 9: 5s of traffic on 1 node (1 region of 1 zone of 1 node)" {
		t.Errorf("Title = %q", got)
	}
}

func TestWrap(t *testing.T) {
	for _, c := range []struct {
		text  string
		width int
		want  []string
	}{
		{"", 10, nil},
		{"one two three", 7, []string{"one two", "three"}},
		{"one two three", 100, []string{"one two three"}},
		{"a verylongword b", 4, []string{"a", "verylongword", "b"}},
	} {
		got := wrap(c.text, c.width)
		if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", c.text, c.width, got, c.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for in, want := range map[string]string{"5s": "5s", "1m30s": "1m30s", "24h": "24h", "1h5m": "1h5m", "1.25s": "1.25s", "2m": "2m"} {
		d, err := time.ParseDuration(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatMs(t *testing.T) {
	for in, want := range map[float64]string{
		0: "0", 0.0042: "0.0042", 0.5: "0.500", 1.25: "1.25", 12.5: "12.5", 125.4: "125", 1843.2: "1843",
	} {
		if got := FormatMs(in); got != want {
			t.Errorf("FormatMs(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestContenders(t *testing.T) {
	if got := Contenders(nil); got != "-" {
		t.Errorf("Contenders(nil) = %q", got)
	}
	got := Contenders([]Level{{Name: "node", PeakContenders: 240}, {Name: "region", PeakContenders: 20}})
	if got != "node:240 region:20" {
		t.Errorf("Contenders = %q", got)
	}
}
