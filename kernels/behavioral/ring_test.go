package behavioral

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/behavioral/anomaly"
	"github.com/gokernels/gokernels/kernels/behavioral/eventcorrelation"
	"github.com/gokernels/gokernels/kernels/behavioral/fraudsignatures"
	"github.com/gokernels/gokernels/kernels/behavioral/profiling"
	"github.com/gokernels/gokernels/kernels/eventfold"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring/ringreplay"
	"github.com/gokernels/gokernels/server/jsoninput"
)

var ringIDs = []string{"behavioral/profiling", "behavioral/anomaly", "behavioral/fraud-signatures", "behavioral/event-correlation"}

func fixtureInputs(t *testing.T, k *registry.Kernel) []proto.Message {
	t.Helper()
	var out []proto.Message
	for _, c := range fixture.KernelFile(t, fixture.DomainFiles(t, "behavioral"), k.ID).Cases {
		if c.ErrorField != "" {
			continue
		}
		in := k.NewInput()
		if err := jsoninput.Decode(c.Input, in); err != nil {
			t.Fatal(err)
		}
		out = append(out, in)
	}
	return out
}

// TestRingReplayLaw: every fixture input of every Ring id, fed to the
// handler as Split's messages (one event each, ts order) with a state
// round trip half-way, then Snapshot, equals Batch; the events each
// message emits are checked per kernel against the Batch output.
func TestRingReplayLaw(t *testing.T) {
	r := newRegistry(t)
	ctx := context.Background()
	emits := map[string]int{}
	for _, id := range ringIDs {
		k, _ := r.Get(id)
		for ci, in := range fixtureInputs(t, k) {
			want, err := k.RunCPU(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			h, ok := k.RingHandler()
			if !ok {
				t.Fatalf("%s has no ring handler", id)
			}
			cfg, data := h.Split(in)
			if err := h.Configure(ctx, cfg); err != nil {
				t.Fatalf("%s case %d: configure: %v", id, ci, err)
			}
			var evs []foldtest.Event
			var sent []*behavioralv1.UserEvent
			for i, msg := range data {
				if i == len(data)/2 {
					st, err := h.MarshalState()
					if err != nil {
						t.Fatal(err)
					}
					h, _ = k.RingHandler()
					if err := h.UnmarshalState(st); err != nil {
						t.Fatal(err)
					}
					again, _ := h.MarshalState()
					if !bytes.Equal(st, again) {
						t.Fatalf("%s case %d: state encoding is not stable across a round trip", id, ci)
					}
				}
				rc := foldtest.New(ctx, uint64(i+1))
				if err := h.Apply(rc, msg); err != nil {
					t.Fatalf("%s case %d: apply %d: %v", id, ci, i, err)
				}
				evs = append(evs, rc.Events()...)
				sent = append(sent, msg.ProtoReflect().Get(msg.ProtoReflect().Descriptor().Fields().ByName("events")).List().Get(0).Message().Interface().(*behavioralv1.UserEvent))
			}
			got, err := h.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Fatalf("%s case %d: ring snapshot differs from Batch", id, ci)
			}
			checkEmits(t, fmt.Sprintf("%s case %d", id, ci), in, want, sent, evs)
			emits[id] += len(evs)
			// A second Snapshot equals the first: Snapshot changes no state.
			st1, _ := h.MarshalState()
			h.Snapshot(ctx)
			if st2, _ := h.MarshalState(); !bytes.Equal(st1, st2) {
				t.Fatalf("%s case %d: Snapshot changed the state", id, ci)
			}
		}
	}
	for _, id := range []string{"behavioral/anomaly", "behavioral/fraud-signatures", "behavioral/event-correlation"} {
		if emits[id] == 0 {
			t.Errorf("%s: the fixtures emitted no event, so the emit checks checked nothing", id)
		}
	}
	t.Logf("events emitted: %v", emits)
}

func checkEmits(t *testing.T, name string, in, want proto.Message, sent []*behavioralv1.UserEvent, evs []foldtest.Event) {
	t.Helper()
	switch w := want.(type) {
	case *behavioralv1.AnomalyOutput:
		// One alert per anomalous event, in order, equal to its Batch result.
		var anomalous []*behavioralv1.EventAnomaly
		for _, r := range w.Events {
			if r.IsAnomaly {
				anomalous = append(anomalous, r)
			}
		}
		if len(evs) != len(anomalous) {
			t.Fatalf("%s: %d alerts for %d anomalous events", name, len(evs), len(anomalous))
		}
		for i, e := range evs {
			if e.Kind != anomaly.EventAlert || !proto.Equal(e.Msg, anomalous[i]) {
				t.Fatalf("%s: alert %d is %s %v, want %v", name, i, e.Kind, e.Msg, anomalous[i])
			}
		}
	case *behavioralv1.FraudSignaturesOutput:
		// The (signature, user) pairs with an online detection are exactly
		// those with a Batch match; each detection ends at an event of its
		// user, lists that user's events and scores within [0, severity].
		sev := map[string]float64{}
		for _, s := range in.(*behavioralv1.FraudSignaturesInput).GetSignatures() {
			sev[s.GetId()] = s.GetSeverity()
		}
		user := map[string]string{}
		for _, e := range sent {
			user[e.GetId()] = e.GetUserId()
		}
		detected := map[[2]string]bool{}
		for _, e := range evs {
			m := e.Msg.(*behavioralv1.SignatureMatch)
			if e.Kind != fraudsignatures.EventAlert || m.Score < 0 || m.Score > sev[m.SignatureId]+1e-9 || m.StartTs > m.EndTs {
				t.Fatalf("%s: detection %v", name, m)
			}
			for _, id := range m.EventIds {
				if user[id] != m.UserId {
					t.Fatalf("%s: detection %v lists event %s of another user", name, m, id)
				}
			}
			detected[[2]string{m.SignatureId, m.UserId}] = true
		}
		batch := map[[2]string]bool{}
		for _, m := range w.Matches {
			batch[[2]string{m.SignatureId, m.UserId}] = true
		}
		if len(batch) != len(detected) {
			t.Fatalf("%s: %d (signature, user) pairs detected online, %d in Batch", name, len(detected), len(batch))
		}
		for p := range batch {
			if !detected[p] {
				t.Fatalf("%s: Batch match %v was never detected online", name, p)
			}
		}
	case *behavioralv1.EventCorrelationOutput:
		// Merges name clusters by their smallest id; the number of final
		// clusters with ≥ 2 events is at most the multi-event components
		// created minus the merges, so merges never exceed events.
		for _, e := range evs {
			m := e.Msg.(*behavioralv1.ClusterMerged)
			if e.Kind != eventcorrelation.EventMerged || !(m.Into < m.From) {
				t.Fatalf("%s: merge %v", name, m)
			}
		}
		if len(evs) >= len(sent) && len(sent) > 0 {
			t.Fatalf("%s: %d merges for %d events", name, len(evs), len(sent))
		}
	case *behavioralv1.ProfilingOutput:
		if len(evs) != 0 {
			t.Fatalf("%s: profiling emitted %d events", name, len(evs))
		}
	}
}

// TestRingJournalReplay: through the runtime with JOURNAL durability, one
// fixture input per Ring id: the snapshot equals Batch and the journal
// alone rebuilds byte-identical state.
func TestRingJournalReplay(t *testing.T) {
	r := newRegistry(t)
	for _, id := range ringIDs {
		k, _ := r.Get(id)
		ins := fixtureInputs(t, k)
		in := ins[0]
		want, err := k.RunCPU(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := ringreplay.Run(t, r, id, in)
		if !proto.Equal(got, want) {
			t.Fatalf("%s: journal ring snapshot differs from Batch", id)
		}
	}
}

// TestProfilingStateIsBounded: a user with 5,000 events keeps 2·W of them
// (W = 20) and the ring still equals Batch.
func TestProfilingStateIsBounded(t *testing.T) {
	in := &behavioralv1.ProfilingInput{StabilityWindow: proto.Int32(20)}
	for i := range 5000 {
		in.Events = append(in.Events, &behavioralv1.UserEvent{Id: fmt.Sprintf("e%05d", i), UserId: fmt.Sprintf("u%d", i%2),
			EventType: []string{"login", "view", "buy"}[i%3], Ts: 1_700_000_000 + int64(i)*97,
			DeviceId: []string{"d1", "d2"}[i/7%2], SessionId: fmt.Sprintf("s%d", i/50)})
	}
	ctx := context.Background()
	j, err := profiling.Kernel.Prepare(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := profiling.Kernel.CPU(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	h := profiling.RingSpec.New()
	cfg, data := h.Split(in)
	if err := h.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	for i, m := range data {
		if err := h.Apply(foldtest.New(ctx, uint64(i+1)), m); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := eventfold.State[*profiling.State](h)
	for u, us := range st.Users {
		if len(us.Recs) != 40 {
			t.Fatalf("user %s holds %d events, want 2·W = 40", u, len(us.Recs))
		}
	}
	got, _ := h.Snapshot(ctx)
	if !proto.Equal(got, want) {
		t.Fatal("bounded ring differs from Batch")
	}
	if got.(*behavioralv1.ProfilingOutput).Profiles[0].Stability == 0 {
		t.Fatal("stability was not computed")
	}
}

// TestRingRefusals: parameters in a data message, events in Configure,
// an older event and a bad event are refused and leave the state as it was.
func TestRingRefusals(t *testing.T) {
	ctx := context.Background()
	h := anomaly.RingSpec.New()
	if err := h.Configure(ctx, &behavioralv1.AnomalyInput{Events: []*behavioralv1.UserEvent{{Id: "a"}}}); fixture.ErrorField(err) != "events" {
		t.Fatalf("events in Configure: %v", err)
	}
	if err := h.Configure(ctx, &behavioralv1.AnomalyInput{MinEvents: proto.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	ev := func(id string, ts int64) *behavioralv1.AnomalyInput {
		return &behavioralv1.AnomalyInput{Events: []*behavioralv1.UserEvent{{Id: id, UserId: "u", EventType: "x", Ts: ts}}}
	}
	rc := foldtest.New(ctx, 1)
	if err := h.Apply(rc, ev("a", 100)); err != nil {
		t.Fatal(err)
	}
	before, _ := h.MarshalState()
	withParam := ev("b", 200)
	withParam.Threshold = proto.Float64(10)
	for name, c := range map[string]struct {
		msg   *behavioralv1.AnomalyInput
		field string
	}{
		"parameter":   {withParam, "threshold"},
		"older event": {ev("c", 50), "events[0].ts"},
		"duplicate":   {&behavioralv1.AnomalyInput{Events: []*behavioralv1.UserEvent{{Id: "d", Ts: 300}, {Id: "d", Ts: 300}}}, "events[1].id"},
		"bad order":   {&behavioralv1.AnomalyInput{Events: []*behavioralv1.UserEvent{{Id: "e", Ts: 300}, {Id: "f", Ts: 299}}}, "events[1].ts"},
	} {
		if err := h.Apply(rc, c.msg); fixture.ErrorField(err) != c.field {
			t.Errorf("%s: %v, want a 400 on %s", name, err, c.field)
		}
		if after, _ := h.MarshalState(); !bytes.Equal(before, after) {
			t.Fatalf("%s: a refused message changed the state", name)
		}
	}
}
