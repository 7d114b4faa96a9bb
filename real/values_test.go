package real

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
)

// A value and its delta survive the envelope; a value without a delta is
// stored as it is, unless it begins like an envelope; and whatever does not
// follow the envelope's rule reads as a plain value without a delta.
func TestValueEnvelope(t *testing.T) {
	for _, tc := range []struct {
		name   string
		value  string
		delta  time.Duration
		stored string
	}{
		{"plain", "hello", 0, "hello"},
		{"empty", "", 0, ""},
		{"with a delta", "hello", 1500 * time.Microsecond, envelopeMark + "1500:hello"},
		{"delta below a microsecond", "v", 999, "v"},
		{"negative delta", "v", -time.Second, "v"},
		{"delta beyond 32 bits of microseconds", "v", 100 * time.Hour, envelopeMark + "4294967295:v"},
		{"value like an envelope", envelopeMark + "7:x", 0, envelopeMark + "0:" + envelopeMark + "7:x"},
		{"value that is the mark", envelopeMark, 0, envelopeMark + "0:" + envelopeMark},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stored := string(wrapValue([]byte(tc.value), tc.delta))
			if stored != tc.stored {
				t.Fatalf("stored %q, want %q", stored, tc.stored)
			}
			v, d := unwrapValue(stored)
			want := min(max(tc.delta, 0), math.MaxUint32*time.Microsecond).Truncate(time.Microsecond)
			if string(v) != tc.value || d != want {
				t.Errorf("read back %q with delta %v, want %q with %v", v, d, tc.value, want)
			}
		})
	}
	for _, plain := range []string{envelopeMark, envelopeMark + ":x", envelopeMark + "12", envelopeMark + "1x:y", envelopeMark + "12345678901234567890:x", "\xffX"} {
		if v, d := unwrapValue(plain); string(v) != plain || d != 0 {
			t.Errorf("%q read as %q with delta %v, want it as it is", plain, v, d)
		}
	}
}

// Entries written before the envelope (by drivers without XFetch, or from
// before it) read as they are, with no delta, whatever the read asks for;
// and the script reads the delta as unwrapValue does.
func TestOldEntriesStayReadable(t *testing.T) {
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	st := &store{scope: locks.ScopeRegion, client: c, base: "old:region:{", publish: scriptPublish, release: scriptRelease}
	for _, tc := range []struct {
		name, stored string
		early        float64
		want         locks.Status
		delta        time.Duration
	}{
		{"plain", "hello", 0, locks.StatusValue, 0},
		{"plain under XFetch", "hello", 1e9, locks.StatusValue, 0},
		{"not quite an envelope", envelopeMark + "1x:y", 1e9, locks.StatusValue, 0},
		{"an envelope not due", envelopeMark + "1000:y", 1, locks.StatusValue, time.Millisecond},
		{"an envelope due", envelopeMark + "1000:y", 1e9, locks.StatusAcquired, time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.name
			if err := c.Set(ctx, st.key(key, "v"), tc.stored, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			o := st.run(ctx, locks.Op[[]byte]{Kind: locks.OpReadOrAcquire, Key: key, Token: locks.Token{Lo: 1}, TTL: time.Second, Early: tc.early})
			wantValue, _ := unwrapValue(tc.stored)
			if o.res.Status != tc.want || string(o.res.Value) != string(wantValue) || o.res.Delta != tc.delta {
				t.Errorf("got %+v, want %v with %q and delta %v", o.res, tc.want, wantValue, tc.delta)
			}
		})
	}
}
