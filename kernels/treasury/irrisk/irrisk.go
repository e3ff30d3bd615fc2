// Package irrisk is a small cash-flow engine for interest-rate risk
// (domains.md §8 treasury/ir-risk): dated flows, discounting on a flat yield
// or a zero curve (ACT/365F), and the sensitivity measures built on it —
// Macaulay and modified duration, DV01 by ±1 bp central differences,
// effective duration, convexity and key-rate DV01 with triangular bumps
// (Ho 1992).
package irrisk

import "math"

// BP is one basis point as a rate.
const BP = 1e-4

// Flow is one signed cash flow t years (ACT/365F) after the valuation date.
type Flow struct {
	T      float64
	Amount float64
}

// Curve discounts flows: either a flat yield Y compounded M times a year, or
// a zero curve (continuous compounding) linear in the rate between Nodes and
// flat beyond them.
type Curve struct {
	Flat  bool
	Y, M  float64
	Nodes []float64 // strictly increasing times in years
	Rates []float64 // zero rates at Nodes
}

// rate is the zero rate at t (curves only): linear between nodes, flat
// beyond the ends.
func (c *Curve) rate(t float64) float64 {
	n := len(c.Nodes)
	switch {
	case t <= c.Nodes[0]:
		return c.Rates[0]
	case t >= c.Nodes[n-1]:
		return c.Rates[n-1]
	}
	j := 0 // the segment [Nodes[j], Nodes[j+1]] holding t
	for c.Nodes[j+1] < t {
		j++
	}
	a := (t - c.Nodes[j]) / (c.Nodes[j+1] - c.Nodes[j])
	return (1-a)*c.Rates[j] + a*c.Rates[j+1]
}

// NodeWeight is the triangular key-rate weight of node i at t: 1 at the
// node, linear to 0 at its neighbours, flat beyond the end nodes — the
// curve's own interpolation of a bump at that node, so the weights of all
// nodes sum to 1 at every t.
func (c *Curve) NodeWeight(t float64, i int) float64 {
	n := len(c.Nodes)
	switch {
	case t <= c.Nodes[0]:
		return b2f(i == 0)
	case t >= c.Nodes[n-1]:
		return b2f(i == n-1)
	case i > 0 && t < c.Nodes[i] && t > c.Nodes[i-1]:
		return (t - c.Nodes[i-1]) / (c.Nodes[i] - c.Nodes[i-1])
	case i+1 < n && t >= c.Nodes[i] && t < c.Nodes[i+1]:
		return (c.Nodes[i+1] - t) / (c.Nodes[i+1] - c.Nodes[i])
	}
	return 0
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// DF is the discount factor at t.
func (c *Curve) DF(t float64) float64 {
	if c.Flat {
		return math.Pow(1+c.Y/c.M, -c.M*t)
	}
	return math.Exp(-c.rate(t) * t)
}

// shiftExp is h with DF(rate + σ at t) = DF(t)·exp(h).
func (c *Curve) shiftExp(t, sigma float64) float64 {
	if c.Flat {
		// (1 + (y+σ)/m) / (1 + y/m) = 1 + σ/(m + y)
		return -c.M * t * math.Log1p(sigma/(c.M+c.Y))
	}
	return -sigma * t
}

// spread returns (DF₋ − DF₊)/DF and (DF₋ + DF₊ − 2·DF)/DF for a ±σ move of
// the rate at t. With h₋, h₊ the exponents of the two moves, s = (h₋+h₊)/2
// and d = (h₋−h₊)/2, these are 2·eˢ·sinh d and 2·(expm1(s)·cosh d +
// 2·sinh²(d/2)): no difference of nearly equal numbers is ever formed, so
// DV01 and convexity keep full precision although a 1 bp bump moves the
// price in its 8th digit.
func (c *Curve) spread(t, sigma float64) (diff, second float64) {
	var s, d float64
	if c.Flat {
		delta := sigma / (c.M + c.Y)
		s = -c.M * t / 2 * math.Log1p(-delta*delta)
		d = c.M * t * math.Atanh(delta)
	} else {
		d = sigma * t
	}
	h := math.Sinh(d / 2)
	return 2 * math.Exp(s) * math.Sinh(d), 2 * (math.Expm1(s)*math.Cosh(d) + 2*h*h)
}

// PV is Σ amount·DF.
func (c *Curve) PV(flows []Flow) float64 {
	var s float64
	for _, f := range flows {
		s += f.Amount * c.DF(f.T)
	}
	return s
}

// DeltaPV is PV(rates + shift) − PV, summed flow by flow as
// amount·DF·expm1(h) so a small shift keeps its precision.
func (c *Curve) DeltaPV(flows []Flow, shift float64) float64 {
	var s float64
	for _, f := range flows {
		s += f.Amount * c.DF(f.T) * math.Expm1(c.shiftExp(f.T, shift))
	}
	return s
}

// Risk holds the measures of one set of flows.
type Risk struct {
	PV, Macaulay, Modified, Effective, Convexity, DV01 float64
}

// Measure computes PV, durations, DV01 and convexity of flows, with P± the
// prices after a parallel ∓1 bp move (of the flat yield, or of every zero
// rate). A measure that divides by a zero PV is 0 (domains.md §1.6).
func (c *Curve) Measure(flows []Flow) Risk {
	var r Risk
	var tw, diff, second float64
	for _, f := range flows {
		pv := f.Amount * c.DF(f.T)
		d, s := c.spread(f.T, BP)
		r.PV += pv
		tw += f.T * pv
		diff += pv * d
		second += pv * s
	}
	r.DV01 = diff / 2
	if r.PV != 0 {
		r.Macaulay = tw / r.PV
		r.Effective = diff / (2 * r.PV * BP)
		r.Convexity = second / (r.PV * BP * BP)
	}
	r.Modified = r.Macaulay
	if c.Flat {
		r.Modified = r.Macaulay / (1 + c.Y/c.M)
	}
	return r
}

// KeyRateDV01 is the DV01 of flows to each curve node under a triangular
// ±1 bp bump; nil for a flat yield.
func (c *Curve) KeyRateDV01(flows []Flow) []float64 {
	if c.Flat {
		return nil
	}
	out := make([]float64, len(c.Nodes))
	for _, f := range flows {
		pv := f.Amount * c.DF(f.T)
		for i := range c.Nodes {
			if w := c.NodeWeight(f.T, i); w != 0 {
				d, _ := c.spread(f.T, w*BP)
				out[i] += pv * d / 2
			}
		}
	}
	return out
}
