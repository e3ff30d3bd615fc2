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
//
// Every string (party, isin, currency, date) is interned once and replaced
// by its rank in sorted order, so the positions are summed in arrays
// indexed by ranks (a hash map only when the key space is too large to be
// dense) and come out already in key order: at 1,000,000 trades this is
// several times faster than hashing three-string keys per leg.
func Net(trades []Trade, bilateral bool) Result {
	var party, isin, ccy, date dict
	ids := make([][5]int32, len(trades)) // buyer, seller, isin, currency, date
	for i, t := range trades {
		ids[i] = [5]int32{party.id(t.Buyer), party.id(t.Seller), isin.id(t.ISIN), ccy.id(t.Currency), date.id(t.SettlementDate)}
	}
	pr, ir, cr, dr := party.ranks(), isin.ranks(), ccy.ranks(), date.ranks()
	nP, nI, nC, nD := len(pr), len(ir), len(cr), len(dr)
	sec := newAcc(nP, nI, nD)
	cash := newAcc(nP, nC, nD)
	gin, gout := newAcc(nP, nC, 1), newAcc(nP, nC, 1)
	gross := make([]int64, nC)
	pair := map[PairKey]int64{}
	for i, t := range trades {
		x := ids[i]
		b, s, is, c, d := pr[x[0]], pr[x[1]], ir[x[2]], cr[x[3]], dr[x[4]]
		sec.add(b, is, d, t.Quantity)
		sec.add(s, is, d, -t.Quantity)
		cash.add(s, c, d, t.Amount)
		cash.add(b, c, d, -t.Amount)
		gin.add(s, c, 0, t.Amount)
		gout.add(s, c, 0, 0)
		gout.add(b, c, 0, t.Amount)
		gin.add(b, c, 0, 0)
		gross[c] += t.Amount
		if bilateral {
			// The seller receives from the buyer.
			a, bb, sign := t.Seller, t.Buyer, int64(1)
			if bb < a {
				a, bb, sign = bb, a, -1
			}
			pair[PairKey{a, bb, t.Currency, t.SettlementDate}] += sign * t.Amount
		}
	}
	pn, in, cn, dn := party.sorted(), isin.sorted(), ccy.sorted(), date.sorted()
	r := Result{Trades: len(trades), GrossInstr: 4 * int64(len(trades))}
	net := make([]int64, nC)
	sec.each(func(p, i, d int32, v int64) {
		r.Securities = append(r.Securities, Pos[SecKey]{SecKey{pn[p], in[i], dn[d]}, v})
		if v != 0 {
			r.NetInstr++
		}
	})
	cash.each(func(p, c, d int32, v int64) {
		r.Cash = append(r.Cash, Pos[CashKey]{CashKey{pn[p], cn[c], dn[d]}, v})
		net[c] += max(v, 0)
		if v != 0 {
			r.NetInstr++
		}
	})
	gin.each(func(p, c, _ int32, v int64) {
		r.Summaries = append(r.Summaries, Summary{Key: PartyCcy{pn[p], cn[c]}, GrossIn: v, GrossOut: gout.get(p, c, 0)})
	})
	r.Bilateral = sorted(pair, func(a, b PairKey) int {
		return cmp.Or(cmp.Compare(a.A, b.A), cmp.Compare(a.B, b.B), cmp.Compare(a.Currency, b.Currency), cmp.Compare(a.Date, b.Date))
	})
	biNet := map[string]int64{}
	for _, p := range r.Bilateral {
		biNet[p.Key.Currency] += max(p.Net, -p.Net)
	}
	for c, g := range gross {
		m := CurrencyMetrics{Currency: cn[c], Gross: g, Net: net[c], BiNet: biNet[cn[c]]}
		if g > 0 {
			m.Efficiency = 1 - float64(m.Net)/float64(g)
		}
		r.Currencies = append(r.Currencies, m)
	}
	if r.GrossInstr > 0 {
		r.Reduction = 1 - float64(r.NetInstr)/float64(r.GrossInstr)
	}
	return r
}

// dict interns strings.
type dict struct {
	ids   map[string]int32
	names []string
}

func (d *dict) id(s string) int32 {
	if v, ok := d.ids[s]; ok {
		return v
	}
	if d.ids == nil {
		d.ids = map[string]int32{}
	}
	v := int32(len(d.names))
	d.ids[s] = v
	d.names = append(d.names, s)
	return v
}

// ranks maps each id to its name's position in sorted order.
func (d *dict) ranks() []int32 {
	order := make([]int32, len(d.names))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(d.names[a], d.names[b]) })
	r := make([]int32, len(order))
	for pos, id := range order {
		r[id] = int32(pos)
	}
	return r
}

// sorted lists the names in sorted order (index = rank).
func (d *dict) sorted() []string {
	out := slices.Clone(d.names)
	slices.Sort(out)
	return out
}

// maxDense bounds the cells of a dense accumulator (32 MiB of sums).
var maxDense = 1 << 22

// acc sums int64 values over a 3-d key of ranks and lists the keys that
// occurred in lexicographic order: dense arrays when the key space is
// small, a map otherwise.
type acc struct {
	n1, n2, n3 int
	sum        []int64
	seen       []bool
	sparse     map[[3]int32]int64
}

func newAcc(n1, n2, n3 int) *acc {
	a := &acc{n1: n1, n2: n2, n3: n3}
	if n1 > 0 && n2 > 0 && n3 > 0 && n1 <= maxDense/n2/n3 {
		a.sum = make([]int64, n1*n2*n3)
		a.seen = make([]bool, n1*n2*n3)
	} else {
		a.sparse = map[[3]int32]int64{}
	}
	return a
}

func (a *acc) add(i, j, k int32, v int64) {
	if a.sparse != nil {
		a.sparse[[3]int32{i, j, k}] += v
		return
	}
	x := (int(i)*a.n2+int(j))*a.n3 + int(k)
	a.sum[x] += v
	a.seen[x] = true
}

func (a *acc) get(i, j, k int32) int64 {
	if a.sparse != nil {
		return a.sparse[[3]int32{i, j, k}]
	}
	return a.sum[(int(i)*a.n2+int(j))*a.n3+int(k)]
}

func (a *acc) each(f func(i, j, k int32, v int64)) {
	if a.sparse == nil {
		for x, ok := range a.seen {
			if ok {
				f(int32(x/(a.n2*a.n3)), int32(x/a.n3%a.n2), int32(x%a.n3), a.sum[x])
			}
		}
		return
	}
	keys := make([][3]int32, 0, len(a.sparse))
	for k := range a.sparse {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [3]int32) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]), cmp.Compare(a[2], b[2]))
	})
	for _, k := range keys {
		f(k[0], k[1], k[2], a.sparse[k])
	}
}

func sorted[K comparable](m map[K]int64, less func(a, b K) int) []Pos[K] {
	out := make([]Pos[K], 0, len(m))
	for k, v := range m {
		out = append(out, Pos[K]{k, v})
	}
	slices.SortFunc(out, func(a, b Pos[K]) int { return less(a.Key, b.Key) })
	return out
}
