package fxhedge

import (
	"math"

	"github.com/gokernels/gokernels/kernels/risk/normdist"
)

// Exposure is one currency's aggregated position and market.
type Exposure struct {
	Currency    string
	Long, Short float64
	Base        bool // the base currency: no hedge
	Market      Market
	Ratio       float64 // hedge ratio h
}

// Hedge is one currency's hedge.
type Hedge struct {
	Currency                 string
	Long, Short, Net, BaseEq float64
	Instrument               string
	Ratio, Notional, Forward float64
	PutStrike, CallStrike    float64
	Premium, Delta, Residual float64
}

// Plan builds the hedge of one exposure with instrument FORWARD, OPTION or
// COLLAR and moneyness otm.
func Plan(x Exposure, instrument string, otm float64) (Hedge, error) {
	m := x.Market
	net := x.Long - x.Short
	h := Hedge{Currency: x.Currency, Long: x.Long, Short: x.Short, Net: net, BaseEq: net * m.S,
		Instrument: "NONE", Forward: m.Forward()}
	if x.Base || net == 0 {
		h.Residual = net
		return h, nil
	}
	h.Instrument, h.Ratio = instrument, x.Ratio
	h.Notional = x.Ratio * math.Abs(net)
	long := net > 0
	switch instrument {
	case "FORWARD":
		h.Delta = -math.Copysign(h.Notional, net)
	case "OPTION":
		if long {
			h.PutStrike = m.S * (1 - otm)
			h.Premium = h.Notional * m.Put(h.PutStrike)
			h.Delta = h.Notional * m.PutDelta(h.PutStrike)
		} else {
			h.CallStrike = m.S * (1 + otm)
			h.Premium = h.Notional * m.Call(h.CallStrike)
			h.Delta = h.Notional * m.CallDelta(h.CallStrike)
		}
	case "COLLAR":
		var err error
		if long {
			h.PutStrike = m.S * (1 - otm)
			if h.CallStrike, err = m.StrikeFor(true, m.Put(h.PutStrike)); err != nil {
				return h, err
			}
			h.Premium = h.Notional * (m.Put(h.PutStrike) - m.Call(h.CallStrike))
			h.Delta = h.Notional * (m.PutDelta(h.PutStrike) - m.CallDelta(h.CallStrike))
		} else {
			h.CallStrike = m.S * (1 + otm)
			if h.PutStrike, err = m.StrikeFor(false, m.Call(h.CallStrike)); err != nil {
				return h, err
			}
			h.Premium = h.Notional * (m.Call(h.CallStrike) - m.Put(h.PutStrike))
			h.Delta = h.Notional * (m.CallDelta(h.CallStrike) - m.PutDelta(h.PutStrike))
		}
	}
	h.Residual = net + h.Delta
	return h, nil
}

// MinVarianceRatio is h* = Cov(dS, dF)/Var(dF) with sample moments (ddof 1);
// ok is false when Var(dF) is 0 or fewer than 2 pairs are given.
func MinVarianceRatio(ds, df []float64) (float64, bool) {
	n := len(ds)
	if n < 2 || len(df) != n {
		return 0, false
	}
	var ms, mf float64
	for i := range n {
		ms += ds[i]
		mf += df[i]
	}
	ms /= float64(n)
	mf /= float64(n)
	var cov, vf float64
	for i := range n {
		cov += (ds[i] - ms) * (df[i] - mf)
		vf += (df[i] - mf) * (df[i] - mf)
	}
	if vf == 0 {
		return 0, false
	}
	return cov / vf, true
}

// VaR is z·√(eᵀΣe)·√horizon with Σ the sample covariance (ddof 1) of the
// return series (equal lengths ≥ 2) and z = Φ⁻¹(confidence).
func VaR(e []float64, returns [][]float64, confidence, horizon float64) float64 {
	k := len(e)
	if k == 0 {
		return 0
	}
	n := len(returns[0])
	mean := make([]float64, k)
	for i, r := range returns {
		for _, v := range r {
			mean[i] += v
		}
		mean[i] /= float64(n)
	}
	var q float64
	for i := range k {
		for j := range k {
			var c float64
			for t := range n {
				c += (returns[i][t] - mean[i]) * (returns[j][t] - mean[j])
			}
			q += e[i] * e[j] * c / float64(n-1)
		}
	}
	return normdist.Quantile(confidence) * math.Sqrt(math.Max(q, 0)) * math.Sqrt(horizon)
}
