package reports

// upgradeV1 turns a v1 document, as decoded, into a v2 one. v1 had the same
// fields as v2 less some, so decoding it into the v2 types reads every field
// it has; what is left is the step of its series, one second, which v1 did
// not write.
func upgradeV1(res *Results) {
	res.Schema = Schema
	for i := range res.Runs {
		if s := res.Runs[i].Series; s != nil {
			s.StepMs = 1000
		}
	}
}
