// Package series checks the input shared by every temporal kernel (values,
// optional timestamps, optional frequency) and derives what several kernels
// need from it: the time axis and a default seasonal period.
package series

import (
	"context"
	"math"
	"strconv"
	"strings"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// Check validates a series before a kernel allocates anything proportional to
// it: the length cap from limits, finite values, and timestamps (when given)
// one per value, finite and strictly increasing. Errors name the JSON field.
func Check(ctx context.Context, values, timestamps []float64) error {
	if err := limits.Check("values", len(values), limits.From(ctx).MaxSeriesLength); err != nil {
		return err
	}
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return kerr.Invalid(field("values", i), "must be finite")
		}
	}
	if len(timestamps) == 0 {
		return nil
	}
	if len(timestamps) != len(values) {
		return kerr.Invalid("timestamps", "has %d entries but values has %d", len(timestamps), len(values))
	}
	for i, t := range timestamps {
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return kerr.Invalid(field("timestamps", i), "must be finite")
		}
		if i > 0 && !(t > timestamps[i-1]) {
			return kerr.Invalid(field("timestamps", i), "must be greater than timestamps[%d] (%g)", i-1, timestamps[i-1])
		}
	}
	return nil
}

// MinLength rejects a series shorter than min, naming the values field.
func MinLength(values []float64, min int, why string) error {
	if len(values) < min {
		return kerr.Invalid("values", "has %d points; %s needs at least %d", len(values), why, min)
	}
	return nil
}

// Axis returns the time axis: the timestamps when given, else 0, 1, ..., n-1.
func Axis(n int, timestamps []float64) []float64 {
	if len(timestamps) == n {
		return timestamps
	}
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	return x
}

// PeriodFromFrequency maps a pandas offset alias to its seasonal period as
// statsmodels' freq_to_period does: "A"/"Y" 1, "Q" 4, "M" 12, "W" 52, "D" 7,
// "B" 5, "H" 24. An anchored or start-of-period alias ("QS-DEC", "W-SUN",
// "MS", "AS-JAN") counts as its base, and a multiple ("2D") as its unit. ok is
// false for an empty or unknown alias.
func PeriodFromFrequency(freq string) (period int, ok bool) {
	f := strings.TrimLeft(strings.ToUpper(strings.TrimSpace(freq)), "0123456789")
	base, _, _ := strings.Cut(f, "-")
	base = strings.TrimSuffix(base, "S") // start-of-period aliases: "MS", "QS", "AS"
	switch base {
	case "A", "Y":
		return 1, true
	case "Q":
		return 4, true
	case "M":
		return 12, true
	case "W":
		return 52, true
	case "D":
		return 7, true
	case "B":
		return 5, true
	case "H":
		return 24, true
	}
	return 0, false
}

func field(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }
