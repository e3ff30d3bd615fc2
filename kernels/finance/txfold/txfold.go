// Package txfold turns a transaction kernel's Batch Def into a ring handler
// (package fold): the input's `transactions` field carries the data, every
// other field is configuration. The state keeps the configuration and the
// applied transactions (proto-encoded, so it serialises deterministically)
// and Snapshot runs the Batch path on them, so the replay law holds by
// construction: Split's feed, applied in order, then Snapshot, is the Batch
// input. The kernels' own incremental folds (State.Apply/Snapshot in each
// package) are the same computation and are tested against Batch prefix by
// prefix.
package txfold

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// State is the ring state.
type State struct {
	Config []byte          `json:"config"` // the input message without transactions
	Txs    [][]byte        `json:"txs"`    // applied transactions, in order
	IDs    map[string]bool `json:"ids"`
	LastTS int64           `json:"last_ts"`
}

var deterministic = proto.MarshalOptions{Deterministic: true}

func field(m protoreflect.Message) protoreflect.FieldDescriptor {
	return m.Descriptor().Fields().ByName("transactions")
}

func transactions(in proto.Message) []*financev1.Transaction {
	m := in.ProtoReflect()
	l := m.Get(field(m)).List()
	out := make([]*financev1.Transaction, l.Len())
	for i := range out {
		out[i] = l.Get(i).Message().Interface().(*financev1.Transaction)
	}
	return out
}

func withTransactions[In proto.Message](in In, txs []*financev1.Transaction) In {
	c := proto.Clone(in).(In)
	m := c.ProtoReflect()
	fd := field(m)
	m.Clear(fd)
	l := m.Mutable(fd).List()
	for _, tx := range txs {
		l.Append(protoreflect.ValueOfMessage(tx.ProtoReflect()))
	}
	return c
}

// Spec is the ring handler of a transaction kernel declared with def.
func Spec[In, Out proto.Message, J any](def registry.Def[In, Out, J]) fold.Spec[In, Out, State] {
	return fold.Spec[In, Out, State]{
		Configure: func(ctx context.Context, in In) (*State, error) {
			if len(transactions(in)) > 0 {
				return nil, kerr.Invalid("transactions", "Configure takes the parameters only; send transactions as data messages")
			}
			if _, err := def.Prepare(ctx, in); err != nil { // the parameters' own checks
				return nil, err
			}
			cfg, err := deterministic.Marshal(in)
			if err != nil {
				return nil, err
			}
			return &State{Config: cfg, IDs: map[string]bool{}}, nil
		},
		Apply: func(rc fold.Context, s *State, in In) error {
			txs := transactions(in)
			last, any := s.LastTS, len(s.Txs) > 0
			seen := map[string]bool{}
			for i, tx := range txs { // check everything first: a refused message changes nothing
				if any && tx.GetTs() < last {
					return kerr.Invalid(fmt.Sprintf("transactions[%d].ts", i), "ts %d is before the last applied ts %d", tx.GetTs(), last)
				}
				if s.IDs[tx.GetId()] || seen[tx.GetId()] {
					return kerr.Invalid(fmt.Sprintf("transactions[%d].id", i), "duplicate transaction id %q", tx.GetId())
				}
				seen[tx.GetId()] = true
				last, any = tx.GetTs(), true
			}
			for _, tx := range txs {
				b, err := deterministic.Marshal(tx)
				if err != nil {
					return err
				}
				s.Txs = append(s.Txs, b)
				s.IDs[tx.GetId()] = true
				s.LastTS = tx.GetTs()
			}
			return nil
		},
		Snapshot: func(ctx context.Context, s *State) (Out, error) {
			var zero Out
			var cfg In
			cfg = cfg.ProtoReflect().Type().New().Interface().(In)
			if err := proto.Unmarshal(s.Config, cfg); err != nil {
				return zero, err
			}
			txs := make([]*financev1.Transaction, len(s.Txs))
			for i, b := range s.Txs {
				txs[i] = &financev1.Transaction{}
				if err := proto.Unmarshal(b, txs[i]); err != nil {
					return zero, err
				}
			}
			j, err := def.Prepare(ctx, withTransactions(cfg, txs))
			if err != nil {
				return zero, err
			}
			return def.CPU(ctx, j)
		},
		Split: Split[In],
	}
}

// Split is the replay feed of a transaction kernel's input: the input
// without its transactions (Configure), then one data message per
// transaction in ts order.
func Split[In proto.Message](in In) (In, []In) {
	txs := transactions(in)
	cfg := withTransactions(in, nil)
	data := make([]In, 0, len(txs))
	empty := withTransactions(cfg.ProtoReflect().Type().New().Interface().(In), nil)
	for _, i := range txn.TSOrder(txs) {
		data = append(data, withTransactions(empty, []*financev1.Transaction{txs[i]}))
	}
	return cfg, data
}

// Configure is the Configure of an incremental transaction fold: it
// refuses transactions (they are data), checks the parameters with the
// kernel's prepare and builds the state from the prepared job.
func Configure[In proto.Message, J, S any](prepare func(context.Context, In) (J, error), build func(J) *S) func(context.Context, In) (*S, error) {
	return func(ctx context.Context, in In) (*S, error) {
		if len(transactions(in)) > 0 {
			return nil, kerr.Invalid("transactions", "Configure takes the parameters only; send transactions as data messages")
		}
		j, err := prepare(ctx, in)
		if err != nil {
			return nil, err
		}
		return build(j), nil
	}
}

// CheckData refuses a data message that sets a parameter (any field but
// transactions), naming the field.
func CheckData(in proto.Message) error {
	m := in.ProtoReflect()
	fields := m.Descriptor().Fields()
	for i := range fields.Len() { // in declaration order: the error is deterministic
		if fd := fields.Get(i); fd.Name() != "transactions" && m.Has(fd) {
			return kerr.Invalid(string(fd.Name()), "is a parameter: set it with Configure")
		}
	}
	return nil
}
