package series

import (
	"context"
	"math"
	"testing"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

func TestCheckFields(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		values, timestamps []float64
		field              string
	}{
		{[]float64{1, 2, 3}, nil, ""},
		{[]float64{1, 2, 3}, []float64{0, 1.5, 2}, ""},
		{[]float64{1, math.NaN(), 3}, nil, "values[1]"},
		{[]float64{1, 2, 3}, []float64{0, 1}, "timestamps"},
		{[]float64{1, 2, 3}, []float64{0, 1, 1}, "timestamps[2]"},
		{[]float64{1, 2, 3}, []float64{0, math.Inf(1), 5}, "timestamps[1]"},
	} {
		err := Check(ctx, c.values, c.timestamps)
		fe, ok := kerr.AsField(err)
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%v %v: unexpected %v", c.values, c.timestamps, err)
		case c.field != "" && (!ok || fe.Field != c.field):
			t.Errorf("%v %v: err %v, want field %s", c.values, c.timestamps, err, c.field)
		}
	}
	small := limits.With(ctx, limits.Limits{MaxSeriesLength: 2})
	if fe, ok := kerr.AsField(Check(small, []float64{1, 2, 3}, nil)); !ok || fe.Field != "values" {
		t.Errorf("limit not enforced: %v", fe)
	}
}

func TestPeriodFromFrequency(t *testing.T) {
	for freq, want := range map[string]int{"A": 1, "Y": 1, "AS-JAN": 1, "Q": 4, "QS-DEC": 4, "M": 12, "MS": 12,
		"W": 52, "W-SUN": 52, "D": 7, "2D": 7, "B": 5, "H": 24, "h": 24} {
		if got, ok := PeriodFromFrequency(freq); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", freq, got, ok, want)
		}
	}
	for _, freq := range []string{"", "T", "S", "X"} {
		if _, ok := PeriodFromFrequency(freq); ok {
			t.Errorf("%q accepted", freq)
		}
	}
}

func TestAxis(t *testing.T) {
	if x := Axis(3, nil); x[0] != 0 || x[2] != 2 {
		t.Errorf("default axis %v", x)
	}
	ts := []float64{5, 7, 9}
	if x := Axis(3, ts); &x[0] != &ts[0] {
		t.Error("timestamps not used")
	}
}
