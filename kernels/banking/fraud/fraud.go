// Package fraud is banking/fraud-pattern-match: each transaction scored
// against the history that precedes it by configurable detectors
// (structuring splits, cycles, velocity, amount, geography, time, account
// takeover, mule, layering, Aho-Corasick keywords) combined by noisy-OR.
package fraud

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	ahocorasick "github.com/petar-dambovaliev/aho-corasick"
	"golang.org/x/text/cases"
	"gonum.org/v1/gonum/stat/distuv"

	bankingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/banking/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Def declares banking/fraud-pattern-match.
var Def = registry.Def[*bankingv1.FraudPatternMatchInput, *bankingv1.FraudPatternMatchOutput, *job]{
	Meta: registry.Meta{
		ID:          "banking/fraud-pattern-match",
		Domain:      registry.DomainBanking,
		Description: "Fraud pattern matching: each transaction against its preceding history (rapid split, cycles, Poisson velocity, amount, impossible travel, time, account takeover, mule, layering, Aho-Corasick keywords), noisy-OR score and action.",
		Modes:       []registry.Mode{registry.Batch, registry.Ring},
	},
	Prepare: prepare,
	CPU:     run,
}

type pattern struct {
	id, typ                  string
	weight                   float64
	w, travel                int64
	t, speed                 float64
	minCount, minChain, maxC int
	minLayers                int
}

type keyword struct {
	id     string
	weight float64
}

type job struct {
	txs      []*financev1.Transaction
	profiles map[string]*bankingv1.AccountProfile
	patterns []pattern // sorted by id
	ac       *ahocorasick.AhoCorasick
	texts    []string    // distinct folded keyword texts, automaton pattern order
	byText   [][]keyword // keywords of each text
	tz       int64
	maxSteps int
}

var folder = cases.Fold()

func prepare(ctx context.Context, in *bankingv1.FraudPatternMatchInput) (*job, error) {
	order, err := txn.Check(ctx, "transactions", in.GetTransactions())
	if err != nil {
		return nil, err
	}
	j := &job{txs: txn.Sorted(in.GetTransactions(), order), profiles: map[string]*bankingv1.AccountProfile{},
		tz: in.GetTzOffsetSeconds(), maxSteps: limits.From(ctx).MaxIterations * 16}
	for i, p := range in.GetProfiles() {
		if j.profiles[p.GetAccount()] != nil {
			return nil, kerr.Invalid(fmt.Sprintf("profiles[%d].account", i), "duplicate profile for %q", p.GetAccount())
		}
		j.profiles[p.GetAccount()] = p
	}
	seen := map[string]bool{}
	for i, p := range in.GetPatterns() {
		if seen[p.GetId()] {
			return nil, kerr.Invalid(fmt.Sprintf("patterns[%d].id", i), "duplicate pattern id %q", p.GetId())
		}
		seen[p.GetId()] = true
		pt := pattern{id: p.GetId(), typ: p.GetType(), weight: p.GetWeight(),
			w: registry.Or(p.TimeWindow, 86_400), t: registry.Or(p.AmountThreshold, 10_000),
			minCount: int(registry.Or(p.MinCount, 3)), minChain: int(registry.Or(p.MinChainLength, 3)),
			maxC: int(registry.Or(p.MaxChainLength, 10)), travel: registry.Or(p.TravelWindow, 3600),
			speed: registry.Or(p.MaxSpeedKmh, 900), minLayers: int(registry.Or(p.MinLayers, 3))}
		if pt.maxC < pt.minChain {
			return nil, kerr.Invalid(fmt.Sprintf("patterns[%d].max_chain_length", i), "must be >= min_chain_length (%d)", pt.minChain)
		}
		j.patterns = append(j.patterns, pt)
	}
	slices.SortFunc(j.patterns, func(a, b pattern) int { return cmp.Compare(a.id, b.id) })
	seenK := map[string]bool{}
	index := map[string]int{}
	for i, k := range in.GetKeywords() {
		if seenK[k.GetId()] {
			return nil, kerr.Invalid(fmt.Sprintf("keywords[%d].id", i), "duplicate keyword id %q", k.GetId())
		}
		seenK[k.GetId()] = true
		text := folder.String(k.GetText())
		at, ok := index[text]
		if !ok {
			at = len(j.texts)
			index[text] = at
			j.texts = append(j.texts, text)
			j.byText = append(j.byText, nil)
		}
		j.byText[at] = append(j.byText[at], keyword{k.GetId(), k.GetWeight()})
	}
	if len(j.texts) > 0 {
		b := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{MatchKind: ahocorasick.StandardMatch})
		ac := b.Build(j.texts)
		j.ac = &ac
	}
	return j, nil
}

// hits returns the keyword hits in casefold(text), code-point offsets,
// sorted (start, end, keyword id), and the largest hit weight.
func (j *job) hits(text string) ([]*bankingv1.KeywordHit, float64) {
	if j.ac == nil || text == "" {
		return nil, 0
	}
	folded := folder.String(text)
	var out []*bankingv1.KeywordHit
	best := 0.0
	it := j.ac.IterOverlapping(folded)
	for m := it.Next(); m != nil; m = it.Next() {
		start := utf8.RuneCountInString(folded[:m.Start()])
		end := start + utf8.RuneCountInString(folded[m.Start():m.End()])
		for _, k := range j.byText[m.Pattern()] {
			out = append(out, &bankingv1.KeywordHit{KeywordId: k.id, Start: int32(start), End: int32(end)})
			best = max(best, k.weight)
		}
	}
	slices.SortFunc(out, func(a, b *bankingv1.KeywordHit) int {
		if c := cmp.Compare(a.Start, b.Start); c != 0 {
			return c
		}
		if c := cmp.Compare(a.End, b.End); c != 0 {
			return c
		}
		return cmp.Compare(a.KeywordId, b.KeywordId)
	})
	return out, best
}

// haversine is the great-circle distance in km (R = 6371.0088).
func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0088
	rad := math.Pi / 180
	p1, p2 := lat1*rad, lat2*rad
	dp, dl := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Sqrt(min(1, a)))
}

func hasCoords(tx *financev1.Transaction) bool { return tx.Lat != nil && tx.Lon != nil }

func run(ctx context.Context, j *job) (*bankingv1.FraudPatternMatchOutput, error) {
	out := &bankingv1.FraudPatternMatchOutput{}
	sc := newScorer(j)
	for _, tx := range j.txs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res, err := sc.score(tx)
		if err != nil {
			return nil, err
		}
		out.Results = append(out.Results, res)
	}
	return out, nil
}

// scorer scores transactions, given in (ts, input) order, each against
// what precedes it. It keeps only what a later transaction can still
// reach: the transactions inside the longest window (a pattern's
// time_window, or GEO's travel_window) and the last 10 outgoing amounts
// of each account (ACCOUNT_TAKEOVER). Batch and the ring both score with
// it, so the ring's replay equals Batch by construction and its state is
// bounded by the window, not the history.
type scorer struct {
	j      *job
	hist   []*financev1.Transaction // ts > latest ts - reach, in order; the last one is being scored
	last10 map[string][]float64     // per source account, oldest first
	reach  int64
	steps  int // cycle-search steps, against j.maxSteps
}

func newScorer(j *job) *scorer {
	sc := &scorer{j: j, last10: map[string][]float64{}}
	for _, p := range j.patterns {
		sc.reach = max(sc.reach, p.w)
		if p.typ == "GEO" {
			sc.reach = max(sc.reach, p.travel)
		}
	}
	return sc
}

// score adds tx to the history and scores it. On error (the cycle search
// ran out of steps) the scorer is as it was.
func (sc *scorer) score(tx *financev1.Transaction) (*bankingv1.FraudResult, error) {
	drop := 0
	for drop < len(sc.hist) && sc.hist[drop].GetTs() <= tx.GetTs()-sc.reach {
		drop++
	}
	sc.hist = append(sc.hist, tx)
	res, err := sc.scoreLast(sc.hist[drop:])
	if err != nil {
		sc.hist = sc.hist[:len(sc.hist)-1]
		return nil, err
	}
	if drop > 0 {
		// Slide the window; copying keeps the backing array from holding
		// every transaction ever scored.
		sc.hist = append(sc.hist[:0], sc.hist[drop:]...)
	}
	a := tx.GetSourceId()
	l := append(sc.last10[a], tx.GetAmount())
	if len(l) > 10 {
		l = append(l[:0], l[1:]...)
	}
	sc.last10[a] = l
	return res, nil
}

// scoreLast scores the last of txs, the window that ends with it.
func (sc *scorer) scoreLast(txs []*financev1.Transaction) (*bankingv1.FraudResult, error) {
	j := sc.j
	k := len(txs) - 1
	tx := txs[k]
	a := tx.GetSourceId()
	prof := j.profiles[a]
	res := &bankingv1.FraudResult{TxId: tx.GetId()}
	var kwBest float64
	res.KeywordHits, kwBest = j.hits(tx.GetText())
	keep := 1.0
	ids := func(pos []int) []string {
		s := make([]string, len(pos))
		for i, p := range pos {
			s[i] = txs[p].GetId()
		}
		return s
	}
	for _, p := range j.patterns {
		// Window (ts - W, ts], positions in (ts, input) order, ending at k.
		lo := k
		for lo > 0 && txs[lo-1].GetTs() > tx.GetTs()-p.w {
			lo--
		}
		var score float64
		evidence := []int{k}
		switch p.typ {
		case "RAPID_SPLIT":
			var q []int
			var sum float64
			for i := lo; i <= k; i++ {
				t := txs[i]
				if t.GetSourceId() == a && t.GetAmount() >= 0.8*p.t && t.GetAmount() < p.t {
					q = append(q, i)
					sum += t.GetAmount()
				}
			}
			if len(q) >= p.minCount {
				score, evidence = 60, q
				if sum > p.t {
					score = 80
				}
			}
		case "CIRCULAR_FLOW":
			if tx.GetDestId() == a {
				break
			}
			cyc, err := j.cycle(txs, k, lo, p, &sc.steps)
			if err != nil {
				return nil, err
			}
			if cyc != nil {
				slices.Sort(cyc)
				score, evidence = 90, cyc
			}
		case "VELOCITY":
			if prof == nil {
				break
			}
			n := 0
			for i := lo; i <= k; i++ {
				if txs[i].GetSourceId() == a {
					n++
				}
			}
			lambda := prof.GetAvgDailyCount() * float64(p.w) / 86_400
			if z := (float64(n) - lambda) / max(math.Sqrt(lambda), 1); z > 3 {
				tail := 0.0 // P(N >= n)
				if lambda > 0 {
					tail = 1 - distuv.Poisson{Lambda: lambda}.CDF(float64(n-1))
				}
				score = 100 * (1 - tail)
			}
		case "AMOUNT":
			if prof == nil {
				break
			}
			if z := math.Abs(tx.GetAmount()-prof.GetAvgAmount()) / max(prof.GetStdAmount(), 1); z > 3 {
				score = min(100, 20*z)
			}
		case "GEO":
			if prof == nil || tx.GetLocation() == "" || slices.Contains(prof.GetTypicalLocations(), tx.GetLocation()) {
				break
			}
			score = 40
			for i := k - 1; i >= 0 && txs[i].GetTs() > tx.GetTs()-p.travel; i-- {
				o := txs[i]
				if o.GetSourceId() != a {
					continue
				}
				impossible := false
				if hasCoords(o) && hasCoords(tx) {
					d := haversine(o.GetLat(), o.GetLon(), tx.GetLat(), tx.GetLon())
					dt := tx.GetTs() - o.GetTs()
					impossible = d > 0 && (dt == 0 || d/(float64(dt)/3600) > p.speed)
				} else {
					impossible = o.GetLocation() != tx.GetLocation()
				}
				if impossible {
					score, evidence = 85, []int{i, k}
					break
				}
			}
		case "TIME":
			if prof == nil {
				break
			}
			h := int32(((tx.GetTs()+j.tz)%86_400+86_400)%86_400) / 3600
			if !slices.Contains(prof.GetTypicalHours(), h) {
				score = 30
			}
		case "ACCOUNT_TAKEOVER":
			if prof == nil {
				break
			}
			if prof.GetAccountAgeDays() < 30 && tx.GetAmount() > 5*prof.GetAvgAmount() {
				score += 40
			}
			if last := sc.last10[a]; len(last) > 0 {
				var sum float64
				for _, x := range last { // oldest first
					sum += x
				}
				if tx.GetAmount() > sum {
					score += 30
				}
			}
		case "MULE":
			var in, outAmt float64
			var hist []int
			for i := lo; i <= k; i++ {
				t := txs[i]
				if t.GetDestId() == a && t.GetSourceId() != a {
					in += t.GetAmount()
				}
				if t.GetSourceId() == a {
					outAmt += t.GetAmount()
				}
				if t.GetSourceId() == a || t.GetDestId() == a {
					hist = append(hist, i)
				}
			}
			if in > 1000 && outAmt > 0.8*in {
				score, evidence = min(80, 50*outAmt/in), hist
			}
		case "LAYERING":
			accounts := map[string]bool{}
			var all []int
			for i := lo; i <= k; i++ {
				accounts[txs[i].GetSourceId()] = true
				accounts[txs[i].GetDestId()] = true
				all = append(all, i)
			}
			if len(accounts) >= 2*p.minLayers {
				score, evidence = min(90, 10*float64(len(accounts))), all
			}
		case "KEYWORD":
			if len(res.KeywordHits) > 0 {
				score = kwBest
			}
		}
		if score > 0 || (p.typ == "KEYWORD" && len(res.KeywordHits) > 0) {
			res.Matches = append(res.Matches, &bankingv1.FraudMatch{PatternId: p.id, Score: score, EvidenceTxIds: ids(evidence)})
			keep *= 1 - p.weight*score/10_000
		}
	}
	res.Score = 100 * (1 - keep)
	switch {
	case res.Score < 25:
		res.Level, res.Action = "LOW", "ALLOW"
	case res.Score < 50:
		res.Level, res.Action = "MEDIUM", "REVIEW"
	case res.Score < 75:
		res.Level, res.Action = "HIGH", "HOLD"
	default:
		res.Level, res.Action = "CRITICAL", "BLOCK_AND_ALERT"
	}
	return res, nil
}

// cycle returns the positions, in hop order, of the shortest simple cycle
// that starts with transaction k (A -> B) and returns to A over the window
// [lo, k] with min_chain <= hops <= max_chain; among the shortest, the one
// whose hop positions are lexicographically smallest. nil if none.
func (j *job) cycle(txs []*financev1.Transaction, k, lo int, p pattern, steps *int) ([]int, error) {
	a := txs[k].GetSourceId()
	out := map[string][]int{}
	for i := lo; i <= k; i++ {
		t := txs[i]
		if i != k && t.GetSourceId() != t.GetDestId() {
			out[t.GetSourceId()] = append(out[t.GetSourceId()], i)
		}
	}
	for hops := p.minChain; hops <= p.maxC; hops++ {
		path := []int{k}
		visited := map[string]bool{a: true, txs[k].GetDestId(): true}
		var found []int
		var dfs func(v string) error
		dfs = func(v string) error {
			if found != nil {
				return nil
			}
			for _, i := range out[v] {
				if *steps++; *steps > j.maxSteps {
					return kerr.Invalid("transactions", "the cycle search exceeds %d steps; lower max_chain_length or time_window", j.maxSteps)
				}
				d := txs[i].GetDestId()
				if len(path) == hops-1 {
					if d == a {
						found = append(slices.Clone(path), i)
						return nil
					}
					continue
				}
				if visited[d] {
					continue
				}
				visited[d] = true
				path = append(path, i)
				if err := dfs(d); err != nil {
					return err
				}
				path = path[:len(path)-1]
				delete(visited, d)
				if found != nil {
					return nil
				}
			}
			return nil
		}
		if err := dfs(txs[k].GetDestId()); err != nil {
			return nil, err
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, nil
}
