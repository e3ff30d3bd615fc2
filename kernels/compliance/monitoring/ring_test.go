package monitoring

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/compliance/internal/replay"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
)

// alertKey is an alert without its id (ring ids count emitted alerts).
func alertKey(a *compliancev1.MonitoringAlert) string {
	return fmt.Sprintf("%d/%s/%s/%v/%v", a.RuleId, a.EntityId, a.RuleType, a.Value, a.TxIds)
}

// explicitRules returns in's rules (or the defaults) with every cooldown
// set to c.
func explicitRules(in *compliancev1.TransactionMonitoringInput, c int64) *compliancev1.TransactionMonitoringInput {
	in = proto.Clone(in).(*compliancev1.TransactionMonitoringInput)
	if len(in.Rules) == 0 {
		for _, r := range DefaultRules {
			in.Rules = append(in.Rules, &compliancev1.MonitoringRule{RuleId: r.ID, Type: r.Type, Threshold: proto.Float64(r.Threshold),
				WindowSeconds: proto.Int64(r.Window), Severity: r.Severity, Direction: r.Direction})
		}
	}
	for _, r := range in.Rules {
		r.CooldownSeconds = proto.Int64(c)
	}
	return in
}

// TestRingAlertsEqualBatchPrefix: with cooldown 0, the alerts transaction
// k emits equal the Batch alerts over transactions[0..k] at current_time =
// ts_k, restricted to k's entities (SINGLE_AMOUNT: to k itself), for every
// fixture input; Snapshot equals Batch on the prefix every few steps,
// across a state round trip.
func TestRingAlertsEqualBatchPrefix(t *testing.T) {
	ctx := context.Background()
	total := 0
	for name, in := range replay.Inputs(t, Def.ID, func() *compliancev1.TransactionMonitoringInput {
		return &compliancev1.TransactionMonitoringInput{}
	}) {
		in = explicitRules(in, 0)
		j, err := prepare(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		h := RingSpec.New()
		cfg, data := h.Split(in)
		if err := h.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		noNow := j.params
		noNow.Now = nil
		for k, msg := range data {
			rc := foldtest.New(ctx, 1)
			if err := h.Apply(rc, msg); err != nil {
				t.Fatalf("%s: apply %d: %v", name, k, err)
			}
			tx := j.txs[k]
			want, err := evaluate(ctx, noNow, j.txs[:k+1], tx.GetTs(), true)
			if err != nil {
				t.Fatal(err)
			}
			var wantKeys, gotKeys []string
			var wantAlerts []*compliancev1.MonitoringAlert
			for _, a := range want.Alerts {
				if a.RuleType == "SINGLE_AMOUNT" {
					if a.TxIds[0] != tx.GetId() {
						continue
					}
				} else if a.EntityId != tx.GetSourceId() && a.EntityId != tx.GetDestId() {
					continue
				}
				rule := j.params.Rules[slices.IndexFunc(j.params.Rules, func(r Rule) bool { return r.ID == a.RuleId })]
				if !slices.Contains(entitiesOf(tx, rule.Direction), a.EntityId) {
					continue
				}
				wantKeys = append(wantKeys, alertKey(a))
				wantAlerts = append(wantAlerts, a)
			}
			// The reply agrees with the Batch-prefix alerts too.
			if got, want := replyOf(t, rc), summarize(tx.GetId(), wantAlerts); len(got) != 1 || !proto.Equal(got[0], want) {
				t.Fatalf("%s: tx %d: reply %v, Batch prefix gives %v", name, k, got, want)
			}
			for _, a := range foldtest.Emitted[*compliancev1.MonitoringAlert](rc, EventAlert) {
				gotKeys = append(gotKeys, alertKey(a))
			}
			slices.Sort(wantKeys)
			slices.Sort(gotKeys)
			if !slices.Equal(wantKeys, gotKeys) {
				t.Fatalf("%s: tx %d (%s): ring alerts\n%s\nBatch prefix alerts\n%s", name, k, tx.GetId(),
					strings.Join(gotKeys, "\n"), strings.Join(wantKeys, "\n"))
			}
			total += len(gotKeys)
			if k%13 == 0 || k == len(data)-1 {
				st, err := h.MarshalState()
				if err != nil {
					t.Fatal(err)
				}
				h2 := RingSpec.New()
				if err := h2.UnmarshalState(st); err != nil {
					t.Fatal(err)
				}
				if st2, _ := h2.MarshalState(); !bytes.Equal(st, st2) {
					t.Fatalf("%s: state bytes change across a round trip", name)
				}
				h = h2
				got, err := h.Snapshot(ctx)
				if err != nil {
					t.Fatal(err)
				}
				batch, err := Def.CPU(ctx, &job{params: j.params, txs: j.txs[:k+1]})
				if err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(got, batch) {
					t.Fatalf("%s: after %d transactions the snapshot differs from Batch", name, k+1)
				}
			}
		}
	}
	if total == 0 {
		t.Fatal("no fixture transaction raised an alert")
	}
}

// stream makes n transactions among accounts, one every step seconds,
// amounts in [1, 3000), every 97th of 20000 (a SINGLE_AMOUNT hit), some
// from a high-risk country.
func stream(n, accounts int, step int64) []*financev1.Transaction {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]*financev1.Transaction, n)
	for i := range out {
		amt := 1 + rng.Float64()*2999
		if i%97 == 0 {
			amt = 20_000
		}
		tx := &financev1.Transaction{Id: fmt.Sprintf("t%d", i), SourceId: fmt.Sprintf("a%d", rng.IntN(accounts)),
			DestId: fmt.Sprintf("a%d", rng.IntN(accounts)), Amount: amt, Ts: int64(i) * step}
		if i%31 == 0 {
			tx.CountryTo = proto.String("KP")
		}
		out[i] = tx
	}
	return out
}

func tenRules() *compliancev1.TransactionMonitoringInput {
	in := &compliancev1.TransactionMonitoringInput{HighRiskCountries: []string{"KP", "IR"}}
	add := func(id uint32, typ string, thr float64, w int64, dir string) {
		in.Rules = append(in.Rules, &compliancev1.MonitoringRule{RuleId: id, Type: typ, Threshold: proto.Float64(thr),
			WindowSeconds: proto.Int64(w), Severity: "HIGH", Direction: dir})
	}
	add(1, "SINGLE_AMOUNT", 10_000, 86_400, "BOTH")
	add(2, "SINGLE_AMOUNT", 15_000, 86_400, "OUT")
	add(3, "AGGREGATE_AMOUNT", 10_000, 86_400, "BOTH")
	add(4, "AGGREGATE_AMOUNT", 5_000, 3_600, "OUT")
	add(5, "TRANSACTION_COUNT", 10, 86_400, "BOTH")
	add(6, "TRANSACTION_COUNT", 4, 3_600, "IN")
	add(7, "VELOCITY", 2_000, 3_600, "BOTH")
	add(8, "VELOCITY", 500, 86_400, "OUT")
	add(9, "GEOGRAPHIC_RISK", 1, 86_400, "BOTH")
	add(10, "GEOGRAPHIC_RISK", 2, 3_600, "IN")
	return in
}

// TestRingStateIsBounded: over 20 days of traffic the state holds at most
// one retention period (a day) of transactions plus the SINGLE_AMOUNT
// hits, entities leave with their last transaction, default cooldowns
// space a pair's alerts by at least the rule's window, and Snapshot still
// equals Batch.
func TestRingStateIsBounded(t *testing.T) {
	ctx := context.Background()
	in := tenRules()
	in.Transactions = stream(20*288, 500, 300) // every 5 minutes for 20 days
	h := RingSpec.New()
	cfg, data := h.Split(in)
	if err := h.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	last := map[string]int64{}
	windows := map[uint32]int64{}
	for _, r := range in.Rules {
		windows[r.RuleId] = r.GetWindowSeconds()
	}
	alerts := 0
	for k, m := range data {
		rc := foldtest.New(ctx, 1)
		if err := h.Apply(rc, m); err != nil {
			t.Fatal(err)
		}
		ts := in.Transactions[k].GetTs()
		for _, a := range foldtest.Emitted[*compliancev1.MonitoringAlert](rc, EventAlert) {
			key := fmt.Sprintf("%d/%s", a.RuleId, a.EntityId)
			if prev, ok := last[key]; ok && ts-prev < windows[a.RuleId] {
				t.Fatalf("%s alerted at %d and again at %d, inside its cooldown", key, prev, ts)
			}
			last[key] = ts
			alerts++
		}
		s, _ := fold.State[RingState](h)
		if len(s.sweep) > 288 || len(s.hits) > k/97+1 || s.ents.live > 2*288 {
			t.Fatalf("after %d transactions the state holds %d window transactions, %d hits, %d entities", k+1, len(s.sweep), len(s.hits), s.ents.live)
		}
	}
	if alerts == 0 {
		t.Fatal("no alert in 20 days")
	}
	j, err := prepare(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Def.CPU(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Fatal("bounded ring snapshot differs from Batch")
	}
}

// TestRingCurrentTime: with current_time configured in the past of the
// stream, Snapshot still equals Batch (the window before current_time is
// kept apart), and later transactions neither show in it nor grow it.
func TestRingCurrentTime(t *testing.T) {
	ctx := context.Background()
	in := tenRules()
	in.Transactions = stream(6*288, 50, 300)
	in.CurrentTime = proto.Int64(2*86_400 + 7_000)
	j, err := prepare(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Def.CPU(ctx, j)
	h := RingSpec.New()
	cfg, data := h.Split(in)
	if err := h.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	for k, m := range data {
		if err := h.Apply(foldtest.New(ctx, 1), m); err != nil {
			t.Fatal(err)
		}
		if k == len(data)/2 {
			st, _ := h.MarshalState()
			h = RingSpec.New()
			if err := h.UnmarshalState(st); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, _ := fold.State[RingState](h)
	if len(s.win) > 288 || len(s.sweep) > 288 {
		t.Fatalf("win %d, sweep %d transactions", len(s.win), len(s.sweep))
	}
	got, _ := h.Snapshot(ctx)
	if !proto.Equal(got, want) || len(want.Alerts) == 0 {
		t.Fatalf("snapshot differs from Batch (%d alerts)", len(want.Alerts))
	}
}

// TestRingRefusesHeldIDs: an id held in the state (in the window, or a
// SINGLE_AMOUNT hit after it left the window) is refused, naming the
// field, and the refused message changes nothing; two equal ids in one
// message are refused; an id that left the state is accepted again.
func TestRingRefusesHeldIDs(t *testing.T) {
	ctx := context.Background()
	rc := foldtest.New(ctx, 1)
	h := RingSpec.New()
	cfg := &compliancev1.TransactionMonitoringInput{Rules: []*compliancev1.MonitoringRule{
		{RuleId: 1, Type: "SINGLE_AMOUNT", Threshold: proto.Float64(1000), WindowSeconds: proto.Int64(10)},
		{RuleId: 2, Type: "TRANSACTION_COUNT", Threshold: proto.Float64(100), WindowSeconds: proto.Int64(10)},
	}}
	if err := h.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	msg := func(txs ...*financev1.Transaction) *compliancev1.TransactionMonitoringInput {
		return &compliancev1.TransactionMonitoringInput{Transactions: txs}
	}
	tx := func(id string, ts int64, amt float64) *financev1.Transaction {
		return &financev1.Transaction{Id: id, SourceId: "a", DestId: "b", Amount: amt, Ts: ts}
	}
	for _, m := range []*compliancev1.TransactionMonitoringInput{msg(tx("small", 0, 5)), msg(tx("big", 0, 5000))} {
		if err := h.Apply(rc, m); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := h.Snapshot(ctx)
	for name, c := range map[string]struct {
		m     *compliancev1.TransactionMonitoringInput
		field string
	}{
		"held in the window":  {msg(tx("small", 5, 1)), "transactions[0].id"},
		"two in one message":  {msg(tx("n1", 6, 1), tx("n2", 6, 1), tx("n1", 6, 1)), "transactions[2].id"},
		"second of a message": {msg(tx("n3", 6, 1), tx("big", 6, 1)), "transactions[1].id"},
	} {
		err := h.Apply(rc, c.m)
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Fatalf("%s: error %v, want one naming %s", name, err, c.field)
		}
	}
	if after, _ := h.Snapshot(ctx); !proto.Equal(before, after) {
		t.Fatal("a refused message changed the state")
	}
	// At ts 20 both have left the window; "big" stays as a SINGLE_AMOUNT hit.
	if err := h.Apply(rc, msg(tx("x", 20, 1))); err != nil {
		t.Fatal(err)
	}
	if err := h.Apply(rc, msg(tx("small", 21, 1))); err != nil {
		t.Fatalf("an id that left the state was refused: %v", err)
	}
	if err := h.Apply(rc, msg(tx("big", 22, 1))); err == nil {
		t.Fatal("the id of a held SINGLE_AMOUNT hit was accepted")
	}
}

// summarize is the reply entry recomputed from a transaction's alerts.
func summarize(id string, alerts []*compliancev1.MonitoringAlert) *compliancev1.MonitoringTxResult {
	scores := map[string]uint32{"INFO": 10, "LOW": 25, "MEDIUM": 50, "HIGH": 75, "CRITICAL": 100}
	r := &compliancev1.MonitoringTxResult{TxId: id}
	for _, a := range alerts {
		r.AlertCount++
		r.RiskScore = max(r.RiskScore, scores[a.Severity])
		r.AlertFlags |= 1 << (a.RuleId % 64)
	}
	return r
}

// replyOf returns the results of rc's MonitoringReply.
func replyOf(t *testing.T, rc *foldtest.Context) []*compliancev1.MonitoringTxResult {
	t.Helper()
	r, ok := rc.Reply().(*compliancev1.MonitoringReply)
	if !ok {
		t.Fatalf("reply is %T, want *MonitoringReply", rc.Reply())
	}
	return r.GetResults()
}

// TestRingReplySummarizesAlerts: over random streams, rules (ids up to
// 200, so flags wrap at 64), severities and cooldowns, each transaction's
// reply entry equals the count, max-severity score and rule flags of the
// alerts it emitted (one-transaction messages attribute them); messages of
// several transactions reply one entry per transaction, in order, equal to
// those, with the same events; a transaction raising nothing gets zeros.
func TestRingReplySummarizesAlerts(t *testing.T) {
	ctx := context.Background()
	sevs := []string{"INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
	types := []string{"SINGLE_AMOUNT", "AGGREGATE_AMOUNT", "TRANSACTION_COUNT", "VELOCITY", "GEOGRAPHIC_RISK"}
	dirs := []string{"IN", "OUT", "BOTH"}
	var zeros, alerted, wrapped int
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 99))
		cfg := &compliancev1.TransactionMonitoringInput{HighRiskCountries: []string{"KP"}}
		ids := rng.Perm(200)
		for k := range 2 + rng.IntN(7) {
			typ := types[rng.IntN(len(types))]
			thr := map[string]float64{"SINGLE_AMOUNT": 5000 + rng.Float64()*20000, "AGGREGATE_AMOUNT": 2000 + rng.Float64()*20000,
				"TRANSACTION_COUNT": float64(2 + rng.IntN(8)), "VELOCITY": 100 + rng.Float64()*3000, "GEOGRAPHIC_RISK": float64(1 + rng.IntN(3))}[typ]
			cfg.Rules = append(cfg.Rules, &compliancev1.MonitoringRule{RuleId: uint32(ids[k] + 1), Type: typ, Threshold: proto.Float64(thr),
				WindowSeconds: proto.Int64(int64(600 + rng.IntN(20000))), Severity: sevs[rng.IntN(len(sevs))],
				Direction: dirs[rng.IntN(len(dirs))], CooldownSeconds: proto.Int64(int64(rng.IntN(3) * rng.IntN(5000)))})
		}
		txs := stream(400, 5+rng.IntN(40), int64(1+rng.IntN(120)))
		one, many := RingSpec.New(), RingSpec.New()
		if err := one.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		if err := many.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		var want []*compliancev1.MonitoringTxResult
		var wantKinds []string
		for _, tx := range txs {
			rc := foldtest.New(ctx, 1)
			if err := one.Apply(rc, &compliancev1.TransactionMonitoringInput{Transactions: []*financev1.Transaction{tx}}); err != nil {
				t.Fatal(err)
			}
			emitted := foldtest.Emitted[*compliancev1.MonitoringAlert](rc, EventAlert)
			got := replyOf(t, rc)
			w := summarize(tx.GetId(), emitted)
			if len(got) != 1 || !proto.Equal(got[0], w) {
				t.Fatalf("seed %d, tx %s: reply %v, its %d alerts give %v", seed, tx.GetId(), got, len(emitted), w)
			}
			if len(emitted) == 0 {
				zeros++
				if got[0].AlertCount != 0 || got[0].RiskScore != 0 || got[0].AlertFlags != 0 {
					t.Fatalf("seed %d, tx %s: no alert but reply %v", seed, tx.GetId(), got[0])
				}
			} else {
				alerted++
			}
			for _, a := range emitted {
				if a.RuleId >= 64 {
					wrapped++
				}
			}
			want = append(want, w)
			wantKinds = append(wantKinds, rc.Kinds()...)
		}
		var got []*compliancev1.MonitoringTxResult
		var gotKinds []string
		for i := 0; i < len(txs); {
			n := min(len(txs)-i, 1+rng.IntN(5))
			rc := foldtest.New(ctx, 1)
			if err := many.Apply(rc, &compliancev1.TransactionMonitoringInput{Transactions: txs[i : i+n]}); err != nil {
				t.Fatal(err)
			}
			r := replyOf(t, rc)
			if len(r) != n {
				t.Fatalf("seed %d: a message of %d transactions replied %d entries", seed, n, len(r))
			}
			got = append(got, r...)
			gotKinds = append(gotKinds, rc.Kinds()...)
			i += n
		}
		if !slices.EqualFunc(got, want, func(a, b *compliancev1.MonitoringTxResult) bool { return proto.Equal(a, b) }) {
			t.Fatalf("seed %d: multi-transaction replies differ from one-transaction replies", seed)
		}
		if !slices.Equal(gotKinds, wantKinds) {
			t.Fatalf("seed %d: multi-transaction messages emit %d events, one-transaction %d", seed, len(gotKinds), len(wantKinds))
		}
	}
	if zeros == 0 || alerted == 0 || wrapped == 0 {
		t.Fatalf("streams too narrow: %d quiet, %d alerting transactions, %d alerts of rule_id >= 64", zeros, alerted, wrapped)
	}
}
