package audit

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	auditv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/audit/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/audit/features"
)

// Every fixture case agrees with its pandas / scipy / networkx reference,
// and the invariants hold on every output.
func TestFixtures(t *testing.T) {
	fixture.RunDomain(t, Register, "audit", map[string]fixture.Adjust{
		"audit/feature-extraction": fixture.WithCheck(checkFeatureLaws),
		"audit/hypergraph":         fixture.WithCheck(checkHypergraphLaws),
	})
}

// checkFeatureLaws: ratios in [0, 1]; the type counts sum to the record
// count; counterparty HHI in [1/k, 1] with k counterparties (0 without);
// category HHI in (0, 1] for entities with amounts; the Benford class
// follows its MAD; anomaly scores sorted (−score, entity).
func checkFeatureLaws(t *testing.T, c fixture.Case, out map[string]any) {
	t.Helper()
	names := []string{}
	for _, n := range out["feature_names"].([]any) {
		names = append(names, n.(string))
	}
	if !slices.Equal(names, features.Names) {
		t.Fatalf("feature names %v", names)
	}
	at := func(vals []any, name string) float64 { return vals[slices.Index(features.Names, name)].(float64) }
	for _, x := range out["rows"].([]any) {
		vals := x.(map[string]any)["values"].([]any)
		for _, r := range []string{"activity_ratio", "weekend_ratio", "month_end_ratio", "off_hours_ratio",
			"round_number_ratio", "self_transaction_ratio", "holiday_ratio"} {
			if v := at(vals, r); v < 0 || v > 1 {
				t.Fatalf("%s = %v outside [0, 1]", r, v)
			}
		}
		var cnt float64
		for _, n := range features.Names[5:13] {
			cnt += at(vals, n)
		}
		if cnt != at(vals, "total_count") {
			t.Fatalf("type counts sum to %v, total_count %v", cnt, at(vals, "total_count"))
		}
		k, h := at(vals, "unique_counterparties"), at(vals, "counterparty_concentration")
		if k == 0 && h != 0 || k > 0 && (h < 1/k-1e-12 || h > 1+1e-12) {
			t.Fatalf("counterparty HHI %v with %v counterparties", h, k)
		}
		if ch := at(vals, "category_concentration"); ch < 0 || ch > 1+1e-12 {
			t.Fatalf("category HHI %v", ch)
		}
		mad, cls := at(vals, "benford_mad"), at(vals, "benford_conformity")
		want := 3.0
		switch {
		case mad <= .006:
			want = 0
		case mad <= .012:
			want = 1
		case mad <= .015:
			want = 2
		}
		if cls != want {
			t.Fatalf("benford class %v for MAD %v", cls, mad)
		}
	}
	prev, prevID := math.Inf(1), ""
	for _, x := range out["anomaly_scores"].([]any) {
		s := x.(map[string]any)
		sc, id := s["score"].(float64), s["entity_id"].(string)
		if sc < 0 || sc > prev || sc == prev && id <= prevID {
			t.Fatalf("anomaly scores out of order at %s", id)
		}
		prev, prevID = sc, id
	}
}

// First digits come from the shortest round-trip decimal: 1e23 (stored as
// 9.999…e22) counts as a 1, and amounts below 10 are skipped; with the
// counts exactly proportional to nothing, MAD and chi-square follow the
// closed form.
func TestBenfordDigits(t *testing.T) {
	mad, chi2, cls := features.Benford([]float64{1e23, -19.99, 9.99, 5, 200})
	// digits: 1, 1, 2 over m = 3
	var wantMAD, wantChi float64
	c := []float64{0, 2, 1, 0, 0, 0, 0, 0, 0, 0}
	for d := 1; d <= 9; d++ {
		p := math.Log10(1 + 1/float64(d))
		wantMAD += math.Abs(c[d]/3 - p)
		wantChi += (c[d] - 3*p) * (c[d] - 3*p) / (3 * p)
	}
	if math.Abs(mad-wantMAD/9) > 1e-15 || math.Abs(chi2-wantChi) > 1e-12 || cls != 3 {
		t.Fatalf("benford %v %v %v, want %v %v 3", mad, chi2, cls, wantMAD/9, wantChi)
	}
	if m, x, k := features.Benford([]float64{9.5, -3}); m != 0 || x != 0 || k != 0 {
		t.Fatal("no qualifying amount must give zeros")
	}
}

func TestFeaturesCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	job, err := FeatureExtraction.Prepare(context.Background(), &auditv1.FeatureExtractionInput{
		Records: []*auditv1.AuditRecord{{Id: "a", Type: "INVOICE", EntityId: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FeatureExtraction.CPU(ctx, job); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context.Canceled", err)
	}
}
