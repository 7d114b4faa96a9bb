package scenarios

import "strings"

// Suggest returns the name in known closest to name, if it is close
// enough to be a typo of it ("regoins" for "regions"), or "": what the
// messages of scenario files suggest, for other files to suggest alike.
func Suggest(name string, known []string) string { return suggest(name, known) }

// suggest is Suggest.
func suggest(name string, known []string) string {
	best, bestD := "", 0
	for _, k := range known {
		dist := editDistance(strings.ToLower(name), k)
		if best == "" || dist < bestD {
			best, bestD = k, dist
		}
	}
	limit := max(1, len(name)/3)
	if best != "" && bestD <= limit {
		return best
	}
	// A prefix or a different spelling of separators ("zonesPerRegion").
	flat := func(s string) string { return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s)) }
	for _, k := range known {
		if flat(k) == flat(name) {
			return k
		}
	}
	return ""
}

// editDistance is the Damerau-Levenshtein (optimal string alignment)
// distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	rows := make([][]int, len(ra)+1)
	for i := range rows {
		rows[i] = make([]int, len(rb)+1)
		rows[i][0] = i
	}
	for j := range rb {
		rows[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, rows[i-2][j-2]+1)
			}
			rows[i][j] = v
		}
	}
	return rows[len(ra)][len(rb)]
}
