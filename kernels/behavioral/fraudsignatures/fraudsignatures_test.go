package fraudsignatures

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/simuser"
)

func sigs() []*behavioralv1.Signature {
	w := int64(7200)
	return []*behavioralv1.Signature{
		{Id: "strict", Kind: "EVENT_SEQUENCE", Severity: 90, Sequence: []string{"login", "transfer"}},
		{Id: "stnm", Kind: "EVENT_SEQUENCE", Severity: 80, Sequence: []string{"login", "view", "支付"},
			Contiguity: "SKIP_TILL_NEXT_MATCH", WithinSeconds: &w},
		{Id: "window", Kind: "TIME_WINDOW", Severity: 70, EventTypes: []string{"login", "logout"}, WindowSeconds: 600},
		{Id: "count", Kind: "COUNT_THRESHOLD", Severity: 60, EventType: "transfer", Count: 3, WindowSeconds: 3600},
		{Id: "regex", Kind: "REGEX", Severity: 50, Pattern: "^пар.*ль$"},
	}
}

// Replay law (a mid-stream snapshot equals the Batch output of the prefix;
// the final one equals Batch) and each match re-checks from its events.
func TestReplayLawAndMatchesRecheck(t *testing.T) {
	in := &behavioralv1.FraudSignaturesInput{Events: simuser.Events(2, 4, 500, 3), Signatures: sigs()}
	j, err := Kernel.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	s := NewState(j.Sigs)
	for i, e := range j.Events {
		if err := s.Apply(e); err != nil {
			t.Fatal(err)
		}
		if i == 250 {
			mid, _ := s.Snapshot(context.Background())
			prefix, _ := Run(context.Background(), &Job{Events: j.Events[:251], Sigs: j.Sigs})
			if !proto.Equal(mid, prefix) {
				t.Fatal("mid-stream snapshot differs from the prefix's Batch output")
			}
		}
	}
	got, _ := s.Snapshot(context.Background())
	if !proto.Equal(got, want) {
		t.Fatal("ring snapshot differs from Batch")
	}
	byID := map[string]*behavioralv1.UserEvent{}
	for _, e := range in.Events {
		byID[e.Id] = e
	}
	kinds := map[string]bool{}
	for _, m := range want.Matches {
		kinds[m.SignatureId] = true
		var types []string
		for _, id := range m.EventIds {
			e := byID[id]
			if e.UserId != m.UserId || e.Ts < m.StartTs || e.Ts > m.EndTs {
				t.Fatalf("%v: event %s outside the match", m, id)
			}
			types = append(types, e.EventType)
		}
		switch m.SignatureId {
		case "strict":
			if len(types) != 2 || types[0] != "login" || types[1] != "transfer" || m.Score > 90 {
				t.Fatalf("strict match %v types %v", m, types)
			}
		case "stnm":
			if len(types) != 3 || types[0] != "login" || types[1] != "view" || types[2] != "支付" || m.EndTs-m.StartTs > 7200 {
				t.Fatalf("stnm match %v types %v", m, types)
			}
		case "count":
			if len(types) < 3 || m.EndTs-m.StartTs > 3600 {
				t.Fatalf("count match %v", m)
			}
		case "regex":
			for _, ty := range types {
				if ty != "пароль" {
					t.Fatalf("regex matched %q", ty)
				}
			}
		}
	}
	for _, id := range []string{"strict", "stnm", "window", "count", "regex"} {
		if !kinds[id] {
			t.Errorf("signature %s never matched: the test data does not exercise it", id)
		}
	}
}

// REGEX is a real regular expression (upstream's substring test would never
// match "gift.*card"), searched in string attributes and lists too.
func TestRegexIsNotSubstring(t *testing.T) {
	list, _ := structpb.NewList([]any{"x", "Gift Card"})
	in := &behavioralv1.FraudSignaturesInput{
		Events: []*behavioralv1.UserEvent{
			{Id: "1", UserId: "u", EventType: "view", Ts: 1, Attributes: map[string]*structpb.Value{"tags": structpb.NewListValue(list)}},
			{Id: "2", UserId: "u", EventType: "view", Ts: 2},
		},
		Signatures: []*behavioralv1.Signature{{Id: "r", Kind: "REGEX", Severity: 80, Pattern: "(?i)gift.*card"}},
	}
	j, err := Kernel.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := Run(context.Background(), j)
	if len(out.Matches) != 1 || out.Matches[0].Score != 40 || len(out.Matches[0].EventIds) != 1 {
		t.Fatalf("got %v", out.Matches)
	}
}
