package real

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// A shared cache entry keeps XFetch's delta (how long the upstream call that
// produced the value took) with the value, in the value's own key, so that
// the read-or-acquire script finds both with its one GET and runs exactly
// the commands memstore counts: no key more to read or write.
//
// An entry written with a delta, or whose value itself begins with the
// envelope's mark, is
//
//	"\xffXF" <delta in microseconds, decimal> ":" <value>
//
// and any other entry is the value as it is, as drivers without XFetch
// (and those from before it) write it; those read as having no delta, so
// they stay readable, and a driver without XFetch writes nothing new. The
// rule for reading, here and in the script, is the same: the mark, one or
// more decimal digits, a colon; anything else is a plain value. (A plain
// value written by a driver from before this envelope that happened to
// begin with the mark, digits and a colon would be misread: the mark's
// first byte is 0xff, which no UTF-8 text has.)
const envelopeMark = "\xffXF"

// maxEnvelopeDigits bounds the digits of a delta read back: more than a
// uint64 of microseconds has is not an envelope.
const maxEnvelopeDigits = 19

// wrapValue returns what the publish script stores for v with delta d.
func wrapValue(v []byte, d time.Duration) []byte {
	us := uint64(min(max(d, 0)/time.Microsecond, math.MaxUint32)) // memstore keeps 32 bits
	if us == 0 && !strings.HasPrefix(string(v), envelopeMark) {
		return v
	}
	out := make([]byte, 0, len(envelopeMark)+12+len(v))
	out = append(out, envelopeMark...)
	out = strconv.AppendUint(out, us, 10)
	out = append(out, ':')
	return append(out, v...)
}

// unwrapValue returns the value and the delta of a stored entry.
func unwrapValue(s string) ([]byte, time.Duration) {
	rest, ok := strings.CutPrefix(s, envelopeMark)
	if !ok {
		return []byte(s), 0
	}
	i := 0
	for i < len(rest) && i <= maxEnvelopeDigits && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 || i > maxEnvelopeDigits || i == len(rest) || rest[i] != ':' {
		return []byte(s), 0
	}
	us, err := strconv.ParseUint(rest[:i], 10, 64)
	if err != nil {
		return []byte(s), 0
	}
	return []byte(rest[i+1:]), time.Duration(min(us, math.MaxUint32)) * time.Microsecond
}
