package matrix

import (
	"context"
	"math"
	"testing"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

func TestFromRequest(t *testing.T) {
	ctx := limits.With(context.Background(), limits.Limits{MaxSamples: 10, MaxFeatures: 3, MaxCells: 20})
	cases := []struct {
		data  []float64
		n, d  int32
		field string
	}{
		{[]float64{1, 2, 3, 4}, 2, 2, ""},
		{[]float64{1, 2, 3}, 2, 2, "data"},
		{[]float64{1, 2, math.NaN(), 4}, 2, 2, "data[2]"},
		{nil, 0, 2, "n_samples"},
		{nil, 2, 0, "n_features"},
		{nil, 11, 1, "n_samples"},
		{nil, 2, 4, "n_features"},
		{nil, 7, 3, "data"}, // 21 cells > 20
	}
	for _, c := range cases {
		m, err := FromRequest(ctx, c.data, c.n, c.d)
		if c.field == "" {
			if err != nil || m.Rows != 2 || m.Cols != 2 || m.Row(1)[0] != 3 {
				t.Errorf("FromRequest: %+v, %v", m, err)
			}
			continue
		}
		fe, ok := kerr.AsField(err)
		if !ok || fe.Field != c.field {
			t.Errorf("n=%d d=%d len=%d: err %v, want field %s", c.n, c.d, len(c.data), err, c.field)
		}
	}
}
