package compliance

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/ring"
)

// TestRingRefusalCodes drives the list management of sanctions-screening
// and the id horizon of rapid-movement through the ring runtime: an
// unknown delete id and a repeated transaction id are INVALID_ARGUMENT
// naming the field, a stale expected_version is FAILED_PRECONDITION naming
// expected_version, every refusal leaves the Snapshot as it was, and an
// accepted message's reply carries the list version.
func TestRingRefusalCodes(t *testing.T) {
	ctx := context.Background()
	rt, err := ring.New(newRegistry(t), ring.Options{Dir: t.TempDir(), IdleTimeout: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rt.Shutdown(ctx) }()
	seq := int64(0)
	send := func(r *ring.Ring, m proto.Message) ring.Reply {
		t.Helper()
		seq++
		rep, err := r.Send(ctx, ring.Message{Kind: ring.KindData, TS: seq, Payload: m})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	snapshot := func(r *ring.Ring) proto.Message {
		t.Helper()
		rep, err := r.Send(ctx, ring.Message{Kind: ring.KindSnapshot})
		if err != nil || rep.Err != nil {
			t.Fatalf("snapshot: %v %v", err, rep.Err)
		}
		return rep.Output
	}
	refused := func(r *ring.Ring, m proto.Message, code codes.Code, field string) {
		t.Helper()
		before := snapshot(r)
		rep := send(r, m)
		if rep.Err == nil || rep.Err.Code != code || !strings.HasPrefix(rep.Err.Msg, field+":") {
			t.Fatalf("%v: reply error %v, want %s naming %s", m, rep.Err, code, field)
		}
		if after := snapshot(r); !proto.Equal(before, after) {
			t.Fatalf("refused %v changed the snapshot", m)
		}
	}

	sr, err := rt.Create(ctx, "default", "sanctions", "compliance/sanctions-screening", ring.Config{}, &compliancev1.SanctionsScreeningInput{})
	if err != nil {
		t.Fatal(err)
	}
	rep := send(sr, &compliancev1.SanctionsScreeningInput{Entries: []*compliancev1.SanctionsEntry{{Id: "A", Name: "John Smith"}, {Id: "B", Name: "Jon Smyth"}}})
	if out, ok := rep.Output.(*compliancev1.SanctionsScreeningOutput); rep.Err != nil || !ok || out.ListVersion != 1 || out.ListSize != 2 {
		t.Fatalf("load: %v %v", rep.Err, rep.Output)
	}
	refused(sr, &compliancev1.SanctionsScreeningInput{DeleteIds: []string{"Z"}}, codes.InvalidArgument, "delete_ids[0]")
	refused(sr, &compliancev1.SanctionsScreeningInput{ExpectedVersion: proto.Uint64(0), DeleteIds: []string{"A"}}, codes.FailedPrecondition, "expected_version")
	rep = send(sr, &compliancev1.SanctionsScreeningInput{ExpectedVersion: proto.Uint64(1), DeleteIds: []string{"A"},
		Queries: []*compliancev1.ScreeningQuery{{Name: "John Smith"}}})
	out, ok := rep.Output.(*compliancev1.SanctionsScreeningOutput)
	if rep.Err != nil || !ok || out.ListVersion != 2 || out.ListSize != 1 || len(out.Results) != 1 ||
		len(out.Results[0].Matches) != 1 || out.Results[0].Matches[0].EntryId != "B" {
		t.Fatalf("delete then screen: %v %v", rep.Err, rep.Output)
	}

	w := int64(100)
	rr, err := rt.Create(ctx, "default", "rapid", "compliance/rapid-movement", ring.Config{}, &compliancev1.RapidMovementInput{WindowSeconds: &w})
	if err != nil {
		t.Fatal(err)
	}
	tx := func(id string, ts int64) *compliancev1.RapidMovementInput {
		return &compliancev1.RapidMovementInput{Transactions: []*financev1.Transaction{{Id: id, SourceId: "a", DestId: "b", Amount: 1, Ts: ts}}}
	}
	if rep := send(rr, tx("t1", 1000)); rep.Err != nil {
		t.Fatal(rep.Err)
	}
	refused(rr, tx("t1", 1099), codes.InvalidArgument, "transactions[0].id")
	if rep := send(rr, tx("t1", 1100)); rep.Err != nil {
		t.Fatalf("id past the window: %v", rep.Err)
	}
}
