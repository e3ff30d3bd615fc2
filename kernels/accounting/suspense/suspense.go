// Package suspense scores accounts for behaving like suspense / clearing
// accounts (domains.md §9, accounting/suspense-detection): betweenness on
// the flow network, turnover, FIFO holding period, balance and naming
// indicators. Amounts are int64 minor units; only the ratios are floats.
package suspense

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/gokernels/gokernels/kernels/accounting/flownet"
	"github.com/gokernels/gokernels/kernels/graph/centrality"
	"github.com/gokernels/gokernels/kernels/graph/csr"
)

// Posting is one ledger line in FIFO order: Day is the posting date in days
// since the epoch, and the caller passes postings already sorted by (date,
// entry input order, line_no).
type Posting struct {
	Account string
	Day     int64
	Debit   int64
	Credit  int64
}

// Thresholds are the indicator thresholds.
type Thresholds struct {
	Centrality, Turnover, HoldingDays, BalanceRatio float64
	Counterparties                                  int
	ZeroBalance                                     int64
}

// Options are the detector's parameters.
type Options struct {
	Names    map[string]string // account master names
	Keywords []string          // lower-cased
	AsOf     int64             // days since the epoch
	T        Thresholds
}

// Indicator names in weight order, with their weights.
var (
	Indicators = []string{"HIGH_CENTRALITY", "HIGH_TURNOVER", "SHORT_HOLDING", "BALANCED_FLOWS",
		"MANY_COUNTERPARTIES", "ZERO_END_BALANCE", "SUSPENSE_NAMING"}
	Weights = []float64{20, 15, 15, 15, 10, 15, 10}
)

// Account is one analysed account.
type Account struct {
	Code, Name     string
	Score          float64
	Level          string
	Indicators     []string
	Centrality     float64
	Turnover       float64
	HoldingDays    float64
	Counterparties int
	BalanceRatio   float64
	EndBalance     int64
}

// Result is every analysed account (sorted by code) and the candidates.
type Result struct {
	Accounts   []Account
	Candidates []Account // ≥ 1 indicator, sorted (−score, code)
	HighRisk   []string  // HIGH or CRITICAL, sorted
}

// Detect analyses every account of postings over the flow network edges.
func Detect(ctx context.Context, postings []Posting, edges []flownet.Edge, opt Options) (Result, error) {
	idx := map[string]int{}
	var codes []string
	for _, p := range postings {
		if _, ok := idx[p.Account]; !ok {
			idx[p.Account] = 0
			codes = append(codes, p.Account)
		}
	}
	slices.Sort(codes)
	for i, c := range codes {
		idx[c] = i
	}
	n := len(codes)
	// The account graph: aggregated flows over all currencies, self-loops
	// dropped (csr collapses duplicate arcs).
	var src, dst []int32
	nbrs := make([]map[int32]bool, n)
	for _, e := range edges {
		u, v := idx[e.From], idx[e.To]
		if u == v {
			continue
		}
		src, dst = append(src, int32(u)), append(dst, int32(v))
		for _, p := range [][2]int{{u, v}, {v, u}} {
			if nbrs[p[0]] == nil {
				nbrs[p[0]] = map[int32]bool{}
			}
			nbrs[p[0]][int32(p[1])] = true
		}
	}
	bc := make([]float64, n)
	if n > 0 {
		g, err := csr.Build(n, src, dst, nil, true)
		if err != nil {
			return Result{}, err
		}
		if bc, err = centrality.Betweenness(ctx, g, true); err != nil {
			return Result{}, err
		}
	}
	deb, cred := make([]int64, n), make([]int64, n)
	fifo := make([]fifo, n)
	for i, p := range postings {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
		}
		a := idx[p.Account]
		deb[a] += p.Debit
		cred[a] += p.Credit
		fifo[a].post(p)
	}
	res := Result{Accounts: make([]Account, n)}
	for i, code := range codes {
		d, c := deb[i], cred[i]
		diff := d - c
		absDiff := max(diff, -diff)
		a := Account{Code: code, Name: opt.Names[code], Centrality: bc[i], Counterparties: len(nbrs[i]),
			EndBalance: diff, Turnover: float64(d+c) / max(float64(absDiff)/2, 1),
			HoldingDays: fifo[i].holding(opt.AsOf)}
		if d+c > 0 {
			a.BalanceRatio = 1 - float64(absDiff)/float64(d+c)
		}
		lower := strings.ToLower(a.Name)
		fired := []bool{
			a.Centrality >= opt.T.Centrality,
			a.Turnover >= opt.T.Turnover,
			a.HoldingDays <= opt.T.HoldingDays,
			a.BalanceRatio >= opt.T.BalanceRatio,
			a.Counterparties >= opt.T.Counterparties,
			absDiff < opt.T.ZeroBalance,
			slices.ContainsFunc(opt.Keywords, func(k string) bool { return strings.Contains(lower, k) }),
		}
		for k, f := range fired {
			if f {
				a.Indicators = append(a.Indicators, Indicators[k])
				a.Score += Weights[k]
			}
		}
		if fired[0] && len(a.Indicators) >= 3 {
			a.Score += 10 * a.Centrality
		}
		a.Score = min(a.Score, 100)
		switch {
		case a.Score >= 80 || fired[0] && fired[3] && fired[5]:
			a.Level = "CRITICAL"
		case a.Score >= 60:
			a.Level = "HIGH"
		case a.Score >= 40:
			a.Level = "MEDIUM"
		default:
			a.Level = "LOW"
		}
		res.Accounts[i] = a
		if len(a.Indicators) > 0 {
			res.Candidates = append(res.Candidates, a)
		}
		if a.Level == "HIGH" || a.Level == "CRITICAL" {
			res.HighRisk = append(res.HighRisk, code)
		}
	}
	slices.SortStableFunc(res.Candidates, func(x, y Account) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Code, y.Code))
	})
	return res, nil
}

// lot is an open remainder of one line: its side, amount and date.
type lot struct {
	debit  bool
	amount int64
	day    int64
}

// fifo is one account's open lots (all on one side) and its running
// Σ amount·age over cleared portions (in float64: a suspense line can be
// far above 1e12 minor units, so amount·days may not fit an int64).
type fifo struct {
	lots      []lot
	head      int
	weighted  float64
	totalOpen int64 // Σ of every lot ever opened = the weights' sum
}

func (f *fifo) post(p Posting) {
	debit, amount := p.Debit > 0, p.Debit+p.Credit
	for amount > 0 && f.head < len(f.lots) && f.lots[f.head].debit != debit {
		l := &f.lots[f.head]
		take := min(l.amount, amount)
		f.weighted += float64(take) * float64(p.Day-l.day)
		l.amount -= take
		amount -= take
		if l.amount == 0 {
			f.head++
		}
	}
	if amount > 0 {
		if f.head == len(f.lots) {
			f.lots, f.head = f.lots[:0], 0
		}
		f.lots = append(f.lots, lot{debit: debit, amount: amount, day: p.Day})
		f.totalOpen += amount
	}
}

// holding is the amount-weighted mean age, open lots aged to asOf.
func (f *fifo) holding(asOf int64) float64 {
	if f.totalOpen == 0 {
		return 0
	}
	w := f.weighted
	for _, l := range f.lots[f.head:] {
		w += float64(l.amount) * float64(asOf-l.day)
	}
	return w / float64(f.totalOpen)
}
