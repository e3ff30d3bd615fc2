package nextactivity

import (
	"context"
	"math"
	"testing"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/procint/simlog"
)

// With α > 0 every full distribution sums to 1; the context used is the
// longest suffix seen in training; expected steps are at least 1.
func TestDistributionAndBackoff(t *testing.T) {
	order := int32(3)
	j, err := prepare(context.Background(), &procintv1.NextActivityInput{
		Events: simlog.Log(4, simlog.Options{Cases: 200, Noise: 0.3}), Order: &order})
	if err != nil {
		t.Fatal(err)
	}
	m := j.M
	a := simlog.Activities
	for _, h := range [][]string{{}, {a[0]}, {a[0], a[1]}, {a[0], a[2], a[1]}, {a[6], a[6], a[6], a[6]}, {"nope"}, {a[1], "nope"}} {
		p, used := m.Predict(h)
		var sum float64
		for _, v := range p {
			sum += v
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Fatalf("history %v: Σp = %.17g", h, sum)
		}
		want := int32(-1)
		if len(h) == 0 {
			want = 0
		}
		for L := min(3, len(h)); L >= 1; L-- {
			codes := []int32{}
			ok := true
			for _, x := range h[len(h)-L:] {
				c, known := m.Code[x]
				ok = ok && known
				codes = append(codes, c)
			}
			if _, seen := m.Ctx[key(codes)]; ok && seen {
				want = int32(L)
				break
			}
		}
		if used != want {
			t.Fatalf("history %v: context %d, want %d", h, used, want)
		}
	}
	for i, s := range m.Steps {
		if !(s >= 1) {
			t.Fatalf("steps[%s] = %g", m.Acts[i], s)
		}
	}
}
