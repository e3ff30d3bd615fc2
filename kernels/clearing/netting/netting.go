// Package netting is CCP multilateral netting with novation (CPMI-IOSCO
// PFMI 2012): every eligible trade becomes two trades against the CCP, so a
// party settles one securities position per (isin, settlement date) (NSCC
// Continuous Net Settlement) and one cash position per (currency,
// settlement date) across securities (CLS). All sums are exact int64.
package netting

import (
	"cmp"
	"slices"
)

// Trade is an eligible trade: quantity and amount are positive and bounded
// (|x| ≤ 1e12, so sums over the server's row cap fit in int64).
type Trade struct {
	ISIN, Buyer, Seller, Currency, SettlementDate string
	Quantity, Amount                              int64
}

// SecKey keys a securities position.
type SecKey struct{ Party, ISIN, Date string }

// CashKey keys a cash position.
type CashKey struct{ Party, Currency, Date string }

// PartyCcy keys a summary.
type PartyCcy struct{ Party, Currency string }

// PairKey keys a bilateral position (A < B).
type PairKey struct{ A, B, Currency, Date string }

// Summary is a party's gross and net cash in one currency.
type Summary struct {
	Key               PartyCcy
	GrossIn, GrossOut int64
}

// CurrencyMetrics are one currency's netting figures.
type CurrencyMetrics struct {
	Currency          string
	Gross, Net, BiNet int64
	Efficiency        float64
}

// Result holds every position that occurs (zeros included), sorted by key.
type Result struct {
	Securities []Pos[SecKey]
	Cash       []Pos[CashKey]
	Summaries  []Summary
	Bilateral  []Pos[PairKey]
	Currencies []CurrencyMetrics
	Trades     int
	GrossInstr int64
	NetInstr   int64
	Reduction  float64
}

// Pos is a keyed net amount.
type Pos[K any] struct {
	Key K
	Net int64
}

// Net nets the trades; bilateral adds the per-pair view.
func Net(trades []Trade, bilateral bool) Result {
	sec := map[SecKey]int64{}
	cash := map[CashKey]int64{}
	sum := map[PartyCcy]*Summary{}
	pair := map[PairKey]int64{}
	gross := map[string]int64{}
	summary := func(p, c string) *Summary {
		k := PartyCcy{p, c}
		s := sum[k]
		if s == nil {
			s = &Summary{Key: k}
			sum[k] = s
		}
		return s
	}
	for _, t := range trades {
		sec[SecKey{t.Buyer, t.ISIN, t.SettlementDate}] += t.Quantity
		sec[SecKey{t.Seller, t.ISIN, t.SettlementDate}] -= t.Quantity
		cash[CashKey{t.Seller, t.Currency, t.SettlementDate}] += t.Amount
		cash[CashKey{t.Buyer, t.Currency, t.SettlementDate}] -= t.Amount
		summary(t.Seller, t.Currency).GrossIn += t.Amount
		summary(t.Buyer, t.Currency).GrossOut += t.Amount
		gross[t.Currency] += t.Amount
		if bilateral {
			// The seller receives from the buyer.
			a, b, sign := t.Seller, t.Buyer, int64(1)
			if b < a {
				a, b, sign = b, a, -1
			}
			pair[PairKey{a, b, t.Currency, t.SettlementDate}] += sign * t.Amount
		}
	}
	r := Result{Trades: len(trades), GrossInstr: 4 * int64(len(trades))}
	r.Securities = sorted(sec, func(a, b SecKey) int {
		return cmp.Or(cmp.Compare(a.Party, b.Party), cmp.Compare(a.ISIN, b.ISIN), cmp.Compare(a.Date, b.Date))
	})
	r.Cash = sorted(cash, func(a, b CashKey) int {
		return cmp.Or(cmp.Compare(a.Party, b.Party), cmp.Compare(a.Currency, b.Currency), cmp.Compare(a.Date, b.Date))
	})
	r.Bilateral = sorted(pair, func(a, b PairKey) int {
		return cmp.Or(cmp.Compare(a.A, b.A), cmp.Compare(a.B, b.B), cmp.Compare(a.Currency, b.Currency), cmp.Compare(a.Date, b.Date))
	})
	for _, s := range sum {
		r.Summaries = append(r.Summaries, *s)
	}
	slices.SortFunc(r.Summaries, func(a, b Summary) int {
		return cmp.Or(cmp.Compare(a.Key.Party, b.Key.Party), cmp.Compare(a.Key.Currency, b.Key.Currency))
	})
	net := map[string]int64{}
	for _, p := range r.Cash {
		net[p.Key.Currency] += max(p.Net, 0)
		if p.Net != 0 {
			r.NetInstr++
		}
	}
	for _, p := range r.Securities {
		if p.Net != 0 {
			r.NetInstr++
		}
	}
	biNet := map[string]int64{}
	for _, p := range r.Bilateral {
		biNet[p.Key.Currency] += max(p.Net, -p.Net)
	}
	for c, g := range gross {
		m := CurrencyMetrics{Currency: c, Gross: g, Net: net[c], BiNet: biNet[c]}
		if g > 0 {
			m.Efficiency = 1 - float64(m.Net)/float64(g)
		}
		r.Currencies = append(r.Currencies, m)
	}
	slices.SortFunc(r.Currencies, func(a, b CurrencyMetrics) int { return cmp.Compare(a.Currency, b.Currency) })
	if r.GrossInstr > 0 {
		r.Reduction = 1 - float64(r.NetInstr)/float64(r.GrossInstr)
	}
	return r
}

func sorted[K comparable](m map[K]int64, less func(a, b K) int) []Pos[K] {
	out := make([]Pos[K], 0, len(m))
	for k, v := range m {
		out = append(out, Pos[K]{k, v})
	}
	slices.SortFunc(out, func(a, b Pos[K]) int { return less(a.Key, b.Key) })
	return out
}
