// Package netring is the incremental fold behind
// accounting/network-generation-ring: each journal entry is solved by the
// flow-network generator (package flownet) and its flows are added to
// running aggregates (edges, per-account movements, per-method and
// per-currency counters). Flows themselves are not kept, so the state grows
// with the network, not with the ledger (plus the set of entry ids, kept
// to refuse a replayed entry). The state encodes deterministically with
// encoding/json (map keys are written sorted).
package netring

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/gokernels/gokernels/kernels/accounting/flownet"
)

// Edge is one aggregated (from, to, currency) edge.
type Edge struct {
	From, To, Currency string
	Amount             int64
	Flows              int64
}

// Movement is one account's running totals in one currency.
type Movement struct {
	Account, Currency      string
	Debit, Credit, In, Out int64
}

// MethodCount counts entries and flows per step.
type MethodCount struct {
	Entries, Flows int64
}

// Volume is one currency's flow volume.
type Volume struct {
	Amount, Flows int64
}

// State is the fold's state. Maps are keyed by "\x00"-joined fields.
type State struct {
	SuspenseAccount string
	MaxSubsetLines  int
	NextFlowID      uint64
	Edges           map[string]*Edge
	Movements       map[string]*Movement
	Methods         map[string]*MethodCount
	Volumes         map[string]*Volume
	Nodes           map[string]bool
	EntryIDs        map[string]bool
	Entries         int64
	Flows           int64
	SuspenseLines   int64
	LastPostingDate string
	// LineVolume is Σ|line amounts| applied: every aggregate is bounded
	// by it, so keeping it ≤ MaxInt64 keeps every sum exact.
	LineVolume int64
}

// New returns an empty state for the generator options.
func New(opt flownet.Options) *State {
	return &State{SuspenseAccount: opt.SuspenseAccount, MaxSubsetLines: opt.MaxSubsetLines, NextFlowID: 1,
		Edges: map[string]*Edge{}, Movements: map[string]*Movement{}, Methods: map[string]*MethodCount{},
		Volumes: map[string]*Volume{}, Nodes: map[string]bool{}, EntryIDs: map[string]bool{}}
}

// Options are the generator options the state was built with.
func (s *State) Options() flownet.Options {
	return flownet.Options{SuspenseAccount: s.SuspenseAccount, MaxSubsetLines: s.MaxSubsetLines}
}

// EntryVolume returns Σ|amounts| of an entry's lines, saturating at MaxInt64,
// the suspense lines the generator may add included (each at most the
// entry's own volume per currency, so twice the volume bounds both).
func EntryVolume(e flownet.Entry) int64 {
	var v int64
	for _, l := range e.Lines {
		a := l.Debit + l.Credit
		if v > math.MaxInt64/2-a {
			return math.MaxInt64
		}
		v += a
	}
	return 2 * v
}

// MaxVolume bounds LineVolume: every running sum then stays exact.
const MaxVolume = math.MaxInt64

func key(parts ...string) string { return strings.Join(parts, "\x00") }

// Apply solves one entry (already validated; ordering and duplicate checks
// are the caller's) and folds its flows in. It returns the flows and the
// entry's result.
func (s *State) Apply(e flownet.Entry) ([]flownet.Flow, flownet.Result) {
	g := flownet.NewAt(s.Options(), s.NextFlowID)
	flows, res := g.Solve(e)
	s.NextFlowID = g.Next()
	s.LineVolume += EntryVolume(e)
	s.EntryIDs[e.ID] = true
	s.Entries++
	if e.PostingDate > s.LastPostingDate {
		s.LastPostingDate = e.PostingDate
	}
	move := func(account, currency string) *Movement {
		k := key(account, currency)
		m := s.Movements[k]
		if m == nil {
			m = &Movement{Account: account, Currency: currency}
			s.Movements[k] = m
		}
		return m
	}
	for _, l := range append(slices.Clone(e.Lines), res.Suspense...) {
		m := move(l.Account, l.Currency)
		m.Debit += l.Debit
		m.Credit += l.Credit
	}
	s.SuspenseLines += int64(len(res.Suspense))
	for _, m := range res.Methods {
		mc := s.method(m)
		mc.Entries++
	}
	for _, f := range flows {
		k := key(f.From, f.To, f.Currency)
		ed := s.Edges[k]
		if ed == nil {
			ed = &Edge{From: f.From, To: f.To, Currency: f.Currency}
			s.Edges[k] = ed
		}
		ed.Amount += f.Amount
		ed.Flows++
		s.Nodes[f.From], s.Nodes[f.To] = true, true
		move(f.From, f.Currency).Out += f.Amount
		move(f.To, f.Currency).In += f.Amount
		s.method(f.Method).Flows++
		v := s.Volumes[f.Currency]
		if v == nil {
			v = &Volume{}
			s.Volumes[f.Currency] = v
		}
		v.Amount += f.Amount
		v.Flows++
		s.Flows++
	}
	return flows, res
}

func (s *State) method(m string) *MethodCount {
	mc := s.Methods[m]
	if mc == nil {
		mc = &MethodCount{}
		s.Methods[m] = mc
	}
	return mc
}

// Snapshot is the state's derived result, every list sorted by its key.
type Snapshot struct {
	Nodes     []string
	Edges     []Edge
	Movements []Movement
	Methods   []string // sorted method names; counts in State.Methods
	Volumes   []string // sorted currencies; amounts in State.Volumes
}

// Sorted returns the state's lists in their output order.
func (s *State) Sorted() Snapshot {
	var out Snapshot
	for n := range s.Nodes {
		out.Nodes = append(out.Nodes, n)
	}
	slices.Sort(out.Nodes)
	for _, e := range s.Edges {
		out.Edges = append(out.Edges, *e)
	}
	slices.SortFunc(out.Edges, func(a, b Edge) int {
		return cmp.Or(strings.Compare(a.From, b.From), strings.Compare(a.To, b.To), strings.Compare(a.Currency, b.Currency))
	})
	for _, m := range s.Movements {
		out.Movements = append(out.Movements, *m)
	}
	slices.SortFunc(out.Movements, func(a, b Movement) int {
		return cmp.Or(strings.Compare(a.Account, b.Account), strings.Compare(a.Currency, b.Currency))
	})
	for m := range s.Methods {
		out.Methods = append(out.Methods, m)
	}
	slices.Sort(out.Methods)
	for c := range s.Volumes {
		out.Volumes = append(out.Volumes, c)
	}
	slices.Sort(out.Volumes)
	return out
}
