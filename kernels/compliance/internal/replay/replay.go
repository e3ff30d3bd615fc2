// Package replay checks the replay law of the fold kernels in tests: feed
// a Batch input's transactions one at a time in ts order, Snapshot after
// each, and compare with the Batch output of the same prefix.
package replay

import (
	"testing"

	"google.golang.org/protobuf/proto"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// Inputs decodes every successful fixture case input of kernel id into
// fresh messages made by newIn.
func Inputs[In proto.Message](t *testing.T, id string, newIn func() In) map[string]In {
	t.Helper()
	f := fixture.KernelFile(t, fixture.DomainFiles(t, "compliance"), id)
	out := map[string]In{}
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		in := newIn()
		if err := jsoninput.Decode(c.Input, in); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		out[c.Name] = in
	}
	if len(out) == 0 {
		t.Fatalf("%s: no fixture inputs", id)
	}
	return out
}

// Fold is what a ring state offers.
type Fold[Out proto.Message] interface {
	Apply(tx *financev1.Transaction) error
	Snapshot() (Out, error)
}

// Check applies txs (already in ts order) to st, and after every step
// where every(k) holds compares Snapshot with batch(txs[:k+1]); the last
// step is always compared. It returns the number of comparisons.
func Check[Out proto.Message](t *testing.T, st Fold[Out], txs []*financev1.Transaction,
	batch func([]*financev1.Transaction) (Out, error), every func(k int) bool) int {
	t.Helper()
	n := 0
	for k, tx := range txs {
		if err := st.Apply(tx); err != nil {
			t.Fatalf("apply %d (%s): %v", k, tx.GetId(), err)
		}
		if !every(k) && k != len(txs)-1 {
			continue
		}
		got, err := st.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		want, err := batch(txs[:k+1])
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("after %d transactions the snapshot differs from Batch", k+1)
		}
		n++
	}
	return n
}
