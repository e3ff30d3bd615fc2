package fraud

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	bankingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/banking/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// Event kinds the ring emits, before the message's reply.
const (
	// EventResult carries each scored transaction's FraudResult: the
	// ring's answer to Score(tx).
	EventResult = "FraudResult"
	// EventAlert carries the FraudResult of a transaction whose action is
	// HOLD or BLOCK_AND_ALERT.
	EventAlert = "FraudAlert"
)

// RingState is the ring's state. Configure loads the profiles, patterns and
// keywords (the automaton is built once); each data message's transactions
// are scored, in (ts, message) order, against the history that precedes
// them, then join it. The history kept is the scorer's: the longest
// window's transactions and the last 10 outgoing amounts per account.
// Snapshot lists every scored transaction's result (the Batch output of
// everything sent), so the results and the ids seen are the only parts
// that grow with the stream.
type RingState struct {
	cfg     []byte // the configuration input, deterministic encoding
	sc      *scorer
	results []*bankingv1.FraudResult
	ids     map[string]struct{}
	lastTS  int64
}

// wire is RingState's encoding: equal states give equal bytes
// (encoding/json sorts map keys).
type wire struct {
	Config  []byte               `json:"config"`
	Hist    [][]byte             `json:"hist"`
	Last10  map[string][]float64 `json:"last10"`
	Results [][]byte             `json:"results"`
	LastTS  int64                `json:"last_ts"`
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// MarshalJSON encodes the state deterministically.
func (s *RingState) MarshalJSON() ([]byte, error) {
	w := wire{Config: s.cfg, Last10: s.sc.last10, LastTS: s.lastTS}
	for _, tx := range s.sc.hist {
		b, err := deterministic.Marshal(tx)
		if err != nil {
			return nil, err
		}
		w.Hist = append(w.Hist, b)
	}
	for _, r := range s.results {
		b, err := deterministic.Marshal(r)
		if err != nil {
			return nil, err
		}
		w.Results = append(w.Results, b)
	}
	return json.Marshal(w)
}

// UnmarshalJSON restores a state MarshalJSON encoded.
func (s *RingState) UnmarshalJSON(data []byte) error {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	in := &bankingv1.FraudPatternMatchInput{}
	if err := proto.Unmarshal(w.Config, in); err != nil {
		return err
	}
	fresh, err := configure(context.Background(), in)
	if err != nil {
		return err
	}
	for _, b := range w.Hist {
		tx := &financev1.Transaction{}
		if err := proto.Unmarshal(b, tx); err != nil {
			return err
		}
		fresh.sc.hist = append(fresh.sc.hist, tx)
	}
	if w.Last10 != nil {
		fresh.sc.last10 = w.Last10
	}
	for _, b := range w.Results {
		r := &bankingv1.FraudResult{}
		if err := proto.Unmarshal(b, r); err != nil {
			return err
		}
		fresh.results = append(fresh.results, r)
		fresh.ids[r.GetTxId()] = struct{}{}
	}
	fresh.lastTS = w.LastTS
	*s = *fresh
	return nil
}

func configure(ctx context.Context, in *bankingv1.FraudPatternMatchInput) (*RingState, error) {
	if len(in.GetTransactions()) > 0 {
		return nil, kerr.Invalid("transactions", "Configure takes the profiles, patterns and keywords only; send transactions as data messages")
	}
	j, err := prepare(ctx, in)
	if err != nil {
		return nil, err
	}
	cfg, err := deterministic.Marshal(in)
	if err != nil {
		return nil, err
	}
	return &RingState{cfg: cfg, sc: newScorer(j), ids: map[string]struct{}{}}, nil
}

// RingSpec is the ring handler of banking/fraud-pattern-match.
var RingSpec = fold.Spec[*bankingv1.FraudPatternMatchInput, *bankingv1.FraudPatternMatchOutput, RingState]{
	Messages: fold.Messages{Events: []fold.EventType{
		{Kind: EventResult, Message: &bankingv1.FraudResult{}, Doc: "One per scored transaction, in message " +
			"order: its FraudResult (score, matched patterns, action), the ring's answer to Score(tx)."},
		{Kind: EventAlert, Message: &bankingv1.FraudResult{}, Doc: "After the result of a transaction whose action " +
			"is HOLD or BLOCK_AND_ALERT: the same FraudResult again, for watchers that only want alerts."},
	}},
	Configure: configure,
	Apply: func(rc fold.Context, s *RingState, in *bankingv1.FraudPatternMatchInput) error {
		switch {
		case len(in.GetProfiles()) > 0:
			return kerr.Invalid("profiles", "is configuration: send it with Configure")
		case len(in.GetPatterns()) > 0:
			return kerr.Invalid("patterns", "is configuration: send it with Configure")
		case len(in.GetKeywords()) > 0:
			return kerr.Invalid("keywords", "is configuration: send it with Configure")
		case in.GetTzOffsetSeconds() != 0:
			return kerr.Invalid("tz_offset_seconds", "is configuration: send it with Configure")
		}
		txs := in.GetTransactions()
		if err := limits.Check("transactions", len(s.results)+len(txs), limits.From(rc).MaxEdges); err != nil {
			return err
		}
		// Check everything first: a refused message changes nothing.
		last, seen := s.lastTS, map[string]bool{}
		for i, tx := range txs {
			if (len(s.results) > 0 || i > 0) && tx.GetTs() < last {
				return kerr.Invalid(fmt.Sprintf("transactions[%d].ts", i), "ts %d is before the last scored ts %d", tx.GetTs(), last)
			}
			if _, dup := s.ids[tx.GetId()]; dup || seen[tx.GetId()] {
				return kerr.Invalid(fmt.Sprintf("transactions[%d].id", i), "duplicate transaction id %q", tx.GetId())
			}
			seen[tx.GetId()] = true
			last = tx.GetTs()
		}
		s.sc.steps = 0 // the cycle-search budget is per message
		var undo func()
		if len(txs) > 1 {
			// Only the cycle search's step budget can fail, after earlier
			// transactions of the message were scored: keep what undoes them.
			hist, last10 := slices.Clone(s.sc.hist), map[string][]float64{}
			for _, tx := range txs {
				if _, ok := last10[tx.GetSourceId()]; !ok {
					last10[tx.GetSourceId()] = slices.Clone(s.sc.last10[tx.GetSourceId()])
				}
			}
			undo = func() {
				s.sc.hist = hist
				for a, l := range last10 {
					if l == nil {
						delete(s.sc.last10, a)
					} else {
						s.sc.last10[a] = l
					}
				}
			}
		}
		scored := make([]*bankingv1.FraudResult, 0, len(txs))
		for _, tx := range txs {
			res, err := s.sc.score(proto.Clone(tx).(*financev1.Transaction))
			if err != nil {
				if undo != nil {
					undo()
				}
				return err
			}
			scored = append(scored, res)
		}
		for i, res := range scored {
			s.results = append(s.results, res)
			s.ids[txs[i].GetId()] = struct{}{}
			s.lastTS = txs[i].GetTs()
			rc.Emit(EventResult, res)
			if res.GetAction() == "HOLD" || res.GetAction() == "BLOCK_AND_ALERT" {
				rc.Emit(EventAlert, res)
			}
		}
		return nil
	},
	Snapshot: func(_ context.Context, s *RingState) (*bankingv1.FraudPatternMatchOutput, error) {
		out := &bankingv1.FraudPatternMatchOutput{Results: make([]*bankingv1.FraudResult, len(s.results))}
		for i, r := range s.results {
			out.Results[i] = proto.Clone(r).(*bankingv1.FraudResult)
		}
		return out, nil
	},
	Split: func(in *bankingv1.FraudPatternMatchInput) (*bankingv1.FraudPatternMatchInput, []*bankingv1.FraudPatternMatchInput) {
		cfg := proto.Clone(in).(*bankingv1.FraudPatternMatchInput)
		cfg.Transactions = nil
		var data []*bankingv1.FraudPatternMatchInput
		for _, i := range txn.TSOrder(in.GetTransactions()) {
			tx := in.GetTransactions()[i]
			data = append(data, &bankingv1.FraudPatternMatchInput{Transactions: []*financev1.Transaction{tx}})
		}
		return cfg, data
	},
}

// HistoryLen is the number of transactions the state keeps (tests: it is
// bounded by the longest window, not by the stream).
func (s *RingState) HistoryLen() int { return len(s.sc.hist) }
