package temporal

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	temporalv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/temporal/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/temporal/volatility"
	"github.com/gokernels/gokernels/ring/ringreplay"
)

func temporalRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	return r
}

// The replay law on the pandas / scipy fixtures through a JOURNAL ring:
// the EWMA recursion run per value, and the GARCH fit at Snapshot, equal
// Batch bit for bit.
func TestVolatilityRingReplayLaw(t *testing.T) {
	cases := ringreplay.Fixtures(t, temporalRegistry(t), VolatilityAnalysis.ID)
	if len(cases) != 8 {
		t.Fatalf("%d cases replayed, want the 8 valid fixture cases", len(cases))
	}
	for _, c := range cases {
		if !proto.Equal(c.Batch, c.Ring) {
			t.Errorf("%s: ring differs from Batch:\n%.300s\n%.300s", c.Name, prototext.Format(c.Batch), prototext.Format(c.Ring))
		}
	}
}

// Values in chunks, with timestamps and a state round trip midway, give
// the one-per-message result.
func TestVolatilityRingChunksAndRoundTrip(t *testing.T) {
	for _, c := range fixture.Valid(t, "temporal", "volatility-analysis")[:3] {
		in := &temporalv1.VolatilityAnalysisInput{}
		fixture.Decode(t, c.Input, in)
		one := ringreplay.RoundTrip(t, VolatilityRing.New(), VolatilityRing.New, in)
		cfg, _ := VolatilityRing.Split(in)
		h := VolatilityRing.New()
		if err := h.Configure(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		v := in.GetValues()
		for lo := 0; lo < len(v); lo += 23 {
			hi := min(lo+23, len(v))
			ts := make([]float64, hi-lo)
			for i := range ts {
				ts[i] = float64(lo + i)
			}
			if err := h.Apply(ringreplay.NewContext(uint64(lo+1), int64(lo)), &temporalv1.VolatilityAnalysisInput{Values: v[lo:hi], Timestamps: ts}); err != nil {
				t.Fatal(err)
			}
			if lo == 46 {
				st, _ := h.MarshalState()
				h = VolatilityRing.New()
				if err := h.UnmarshalState(st); err != nil {
					t.Fatal(err)
				}
			}
		}
		got, err := h.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(one, got) {
			t.Fatalf("%s: chunks of 23 differ from one value per message", c.Name)
		}
		// The GARCH filter too: its refits fall at return counts, not
		// message boundaries.
		st, _ := fold.State[VolatilityState](h)
		h1 := VolatilityRing.New()
		ringreplay.RoundTrip(t, h1, VolatilityRing.New, in)
		st1, _ := fold.State[VolatilityState](h1)
		if in.GetMethod() == "garch" && (st.Filter == nil || *st.Filter != *st1.Filter) {
			t.Fatalf("%s: filter %+v in chunks, %+v one per message", c.Name, st.Filter, st1.Filter)
		}
	}
}

// garchNLL is the GARCH(1,1) negative log-likelihood of the proto's
// definition (h_0 = mean of the squared residuals), written out here
// independently of the volatility package; it also returns h_{n-1}.
func garchNLL(r []float64, p volatility.Params) (nll, last float64) {
	h := 0.0
	for _, v := range r {
		h += (v - p.Mu) * (v - p.Mu)
	}
	h /= float64(len(r))
	prev := 0.0
	for t, v := range r {
		e := v - p.Mu
		if t > 0 {
			h = p.Omega + p.Alpha*prev*prev + p.Beta*h
		}
		nll += 0.5 * (math.Log(2*math.Pi) + math.Log(h) + e*e/h)
		prev = e
	}
	return nll, h
}

// Each data message is answered with the next return's variance forecast.
// "ewma": Batch's s_t of the latest return. "garch": nothing before 64
// returns; at 64 Batch's fit over those returns and its h_{t+1|t}; then
// the recursion h_{t+1} = omega + alpha e_t² + beta h_t per return; at 128,
// 256 and 512 the same: Batch's fit over that prefix, bit for bit, whose
// log-likelihood (recomputed here) is the one Batch reports.
func TestVolatilityRingReplies(t *testing.T) {
	ctx := context.Background()
	for _, c := range fixture.Valid(t, "temporal", "volatility-analysis")[:3] {
		in := &temporalv1.VolatilityAnalysisInput{}
		fixture.Decode(t, c.Input, in)
		batch, err := volatilityAnalysis(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		cfg, msgs := VolatilityRing.Split(in)
		h := VolatilityRing.New()
		if err := h.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		r := batch.Returns
		var cur volatility.Params
		next, refits := 0.0, 0
		for i, m := range msgs {
			rc := ringreplay.NewContext(uint64(i+1), int64(i))
			if err := h.Apply(rc, m); err != nil {
				t.Fatal(err)
			}
			u, ok := rc.Reply().(*temporalv1.VolatilityUpdate)
			if !ok {
				t.Fatalf("%s message %d: reply %T", c.Name, i, rc.Reply())
			}
			n := len(r) - (len(msgs) - 1 - i) // returns so far
			if int(u.Returns) != n || u.ForecastVolatility != math.Sqrt(u.ForecastVariance) {
				t.Fatalf("%s message %d: %v, want %d returns", c.Name, i, u, n)
			}
			if in.GetMethod() != "garch" {
				if n > 0 && u.ForecastVariance != batch.Variance[n-1] {
					t.Fatalf("%s message %d: forecast %v, Batch s_t %v", c.Name, i, u.ForecastVariance, batch.Variance[n-1])
				}
				continue
			}
			switch {
			case n < 64:
				if u.FitReturns != 0 || u.ForecastVariance != 0 {
					t.Fatalf("%s: %v before 64 returns", c.Name, u)
				}
				continue
			case n&(n-1) == 0:
				if int(u.FitReturns) != n {
					t.Fatalf("%s: no refit at %d returns: %v", c.Name, n, u)
				}
				cur = volatility.Params{Mu: u.Mu, Omega: u.Omega, Alpha: u.Alpha, Beta: u.Beta}
				cold, err := volatility.GARCH(ctx, r[:n], true)
				if err != nil {
					t.Fatal(err)
				}
				nll, last := garchNLL(r[:n], cur)
				if cold.Params() != cur {
					t.Fatalf("%s: fit at %d returns %v, Batch over them %+v", c.Name, n, u, cold)
				}
				if math.Abs(-nll-cold.LogLik) > 1e-9*math.Abs(cold.LogLik) {
					t.Fatalf("%s at %d returns: loglik %v here, Batch %v", c.Name, n, -nll, cold.LogLik)
				}
				e := r[n-1] - cur.Mu
				next = cur.Omega + cur.Alpha*e*e + cur.Beta*last
				refits++
			default:
				if int(u.FitReturns) != 1<<(bits.Len(uint(n))-1) || u.Omega != cur.Omega {
					t.Fatalf("%s: parameters changed between refits at %d: %v", c.Name, n, u)
				}
				e := r[n-1] - cur.Mu
				next = cur.Omega + cur.Alpha*e*e + cur.Beta*next
			}
			if math.Abs(u.ForecastVariance-next) > 1e-12*next {
				t.Fatalf("%s at %d returns: forecast %v, recursion %v", c.Name, n, u.ForecastVariance, next)
			}
		}
		if in.GetMethod() == "garch" && refits != 4 {
			t.Fatalf("%s: %d refits over %d returns, want 4 (64, 128, 256, 512)", c.Name, refits, len(r))
		}
	}
}

// The refit schedule: powers of two from 64 to 4096 over every return,
// then each multiple of 4096 over the latest 4096.
func TestGARCHRefitSchedule(t *testing.T) {
	var at []int
	for n := 1; n <= 20000; n++ {
		if lo, ok := garchRefit(n); ok {
			at = append(at, n)
			if want := max(0, n-4096); lo != want {
				t.Fatalf("refit at %d from %d, want %d", n, lo, want)
			}
		}
	}
	want := []int{64, 128, 256, 512, 1024, 2048, 4096, 8192, 12288, 16384}
	if !slices.Equal(at, want) {
		t.Fatalf("refits at %v, want %v", at, want)
	}
}

// Random series in random chunks, with state round trips, give Batch's
// output at Snapshot for both methods.
func TestVolatilityRingRandomStreams(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ctx := context.Background()
	for trial := range 16 {
		n := 3 + rng.IntN(200)
		in := &temporalv1.VolatilityAnalysisInput{Method: []string{"ewma", "garch"}[trial%2], ValuesArePrices: trial%4 >= 2}
		p := 100.0
		for range n {
			x := 0.01 * rng.NormFloat64() * (1 + 3*float64(rng.IntN(10)/9))
			if in.ValuesArePrices {
				p *= math.Exp(x)
				x = p
			}
			in.Values = append(in.Values, x)
		}
		want, err := volatilityAnalysis(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := VolatilityRing.Split(in)
		h := VolatilityRing.New()
		if err := h.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		for lo, seq := 0, 1; lo < n; seq++ {
			hi := min(n, lo+1+rng.IntN(40))
			if err := h.Apply(ringreplay.NewContext(uint64(seq), int64(seq)), &temporalv1.VolatilityAnalysisInput{Values: in.Values[lo:hi]}); err != nil {
				t.Fatal(err)
			}
			if rng.IntN(3) == 0 {
				st, _ := h.MarshalState()
				h = VolatilityRing.New()
				if err := h.UnmarshalState(st); err != nil {
					t.Fatal(err)
				}
			}
			lo = hi
		}
		got, err := h.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(want, got) {
			t.Fatalf("trial %d (%s, n %d): ring differs from Batch:\n%.300s\n%.300s", trial, in.Method, n, prototext.Format(want), prototext.Format(got))
		}
	}
}

func TestVolatilityRingRejects(t *testing.T) {
	ctx := context.Background()
	// A GARCH ring past its first refit refuses a bad message whole.
	g := VolatilityRing.New()
	if err := g.Configure(ctx, &temporalv1.VolatilityAnalysisInput{Method: "garch"}); err != nil {
		t.Fatal(err)
	}
	for i := range 70 {
		if err := g.Apply(ringreplay.NewContext(uint64(i+1), int64(i)), &temporalv1.VolatilityAnalysisInput{Values: []float64{0.01 * math.Sin(float64(i)*1.7)}}); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := fold.State[VolatilityState](g); st.Filter == nil || st.Filter.FitReturns != 64 {
		t.Fatalf("no refit at 64 returns: %+v", st.Filter)
	}
	gBefore, _ := g.MarshalState()
	if err := g.Apply(ringreplay.NewContext(71, 70), &temporalv1.VolatilityAnalysisInput{Values: []float64{0.01, math.Inf(1)}}); fixture.ErrorField(err) != "values[1]" {
		t.Fatalf("inf: %v", err)
	}
	if after, _ := g.MarshalState(); !bytes.Equal(gBefore, after) {
		t.Fatal("a refused message changed the GARCH state")
	}
	h := VolatilityRing.New()
	if err := h.Configure(ctx, &temporalv1.VolatilityAnalysisInput{Values: []float64{1}}); fixture.ErrorField(err) != "values" {
		t.Fatalf("values in Configure: %v", err)
	}
	if err := h.Configure(ctx, &temporalv1.VolatilityAnalysisInput{ValuesArePrices: true}); err != nil {
		t.Fatal(err)
	}
	if err := h.Apply(ringreplay.NewContext(1, 0), &temporalv1.VolatilityAnalysisInput{Values: []float64{100}, Timestamps: []float64{5}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Snapshot(ctx); fixture.ErrorField(err) != "values" {
		t.Fatalf("one price: %v", err)
	}
	before, _ := h.MarshalState()
	lambda := 0.9
	for want, m := range map[string]*temporalv1.VolatilityAnalysisInput{
		"values[1]":     {Values: []float64{101, 0}},
		"values[0]":     {Values: []float64{math.NaN()}},
		"timestamps[0]": {Values: []float64{101}, Timestamps: []float64{5}},
		"timestamps":    {Values: []float64{101, 102}, Timestamps: []float64{6}},
		"lambda":        {Values: []float64{101}, Lambda: &lambda},
		"method":        {Values: []float64{101}, Method: "garch"},
	} {
		if err := h.Apply(ringreplay.NewContext(2, 0), m); fixture.ErrorField(err) != want {
			t.Errorf("%s: %v", want, err)
		}
		after, _ := h.MarshalState()
		if !bytes.Equal(before, after) {
			t.Fatalf("%s: a refused message changed the state", want)
		}
	}
}

// BenchmarkVolatilityRingApply: one EWMA return per message after 10k
// and 100k prior ones (O(1) amortised: an append and the recursion).
func BenchmarkVolatilityRingApply(b *testing.B) {
	msg := func(i int) proto.Message {
		return &temporalv1.VolatilityAnalysisInput{Values: []float64{0.01 * math.Sin(float64(i)*0.7)}}
	}
	for _, prior := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("ewma/prior=%d", prior), func(b *testing.B) {
			ringreplay.BenchApply(b, VolatilityRing.New(), &temporalv1.VolatilityAnalysisInput{}, prior, msg)
		})
	}
}
