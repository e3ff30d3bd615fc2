package clearing

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	clearingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/clearing/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/clearing/dvp"
	"github.com/gokernels/gokernels/kernels/clearing/settlement"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// checkNettingLaws asserts domains.md §7's netting invariants: positions
// sum to zero per (isin, date) and (currency, date); each party's net is
// its gross in − out and the sum of its cash positions; net ≤ gross and
// multilateral ≤ bilateral.
func checkNettingLaws(t *testing.T, c fixture.Case, _ map[string]any) {
	in := &clearingv1.NettingInput{}
	if err := jsoninput.Decode(c.Input, in); err != nil {
		t.Fatal(err)
	}
	job, err := Netting.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Netting.CPU(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	type k2 struct{ a, b string }
	secSum, cashSum, partyCash := map[k2]int64{}, map[k2]int64{}, map[k2]int64{}
	for _, p := range out.GetSecurities() {
		secSum[k2{p.GetIsin(), p.GetSettlementDate()}] += p.GetNetQty()
	}
	for _, p := range out.GetCash() {
		cashSum[k2{p.GetCurrency(), p.GetSettlementDate()}] += p.GetNetMinor()
		partyCash[k2{p.GetParty(), p.GetCurrency()}] += p.GetNetMinor()
	}
	for k, v := range secSum {
		if v != 0 {
			t.Errorf("securities %v sum to %d", k, v)
		}
	}
	for k, v := range cashSum {
		if v != 0 {
			t.Errorf("cash %v sums to %d", k, v)
		}
	}
	for _, s := range out.GetSummaries() {
		if s.GetNet() != s.GetGrossIn()-s.GetGrossOut() || s.GetNet() != partyCash[k2{s.GetParty(), s.GetCurrency()}] {
			t.Errorf("summary %v: net ≠ in − out or ≠ Σ cash positions %d", s, partyCash[k2{s.GetParty(), s.GetCurrency()}])
		}
	}
	for _, m := range out.GetCurrencies() {
		if m.GetNetCash() > m.GetGrossCash() || in.GetBilateral() && m.GetNetCash() > m.GetBilateralNetCash() {
			t.Errorf("currency %v: net > gross or > bilateral", m)
		}
	}
}

// checkSettlementLaws asserts domains.md §7's settlement invariants: every
// isin and currency is conserved, no securities balance is negative, cash
// stays above −credit, legs move in proportion, partials respect MSU and
// SUM, and nothing queued is left settleable.
func checkSettlementLaws(t *testing.T, c fixture.Case, _ map[string]any) {
	in := &clearingv1.SettlementInput{}
	if err := jsoninput.Decode(c.Input, in); err != nil {
		t.Fatal(err)
	}
	e := Fold(in)
	out := SettlementSnapshot(e)
	before, after := map[string]int64{}, map[string]int64{}
	for _, b := range in.GetSecurities() {
		before["sec:"+b.GetIsin()] += b.GetQuantity()
	}
	for _, b := range in.GetCash() {
		before["ccy:"+b.GetCurrency()] += b.GetAmountMinor()
	}
	credit := map[[2]string]int64{}
	for _, b := range in.GetCreditLimits() {
		credit[[2]string{b.GetParty(), b.GetCurrency()}] = b.GetAmountMinor()
	}
	for _, b := range out.GetSecurities() {
		after["sec:"+b.GetIsin()] += b.GetQuantity()
		if b.GetQuantity() < 0 {
			t.Errorf("negative securities balance %v", b)
		}
	}
	for _, b := range out.GetCash() {
		after["ccy:"+b.GetCurrency()] += b.GetAmountMinor()
		if b.GetAmountMinor() < -credit[[2]string{b.GetParty(), b.GetCurrency()}] {
			t.Errorf("cash %v below its credit limit", b)
		}
	}
	for k, v := range after {
		if before[k] != v {
			t.Errorf("%s not conserved: %d before, %d after", k, before[k], v)
		}
	}
	txs := map[string]*clearingv1.SettlementTx{}
	for _, tx := range in.GetTransactions() {
		txs[tx.GetId()] = tx
	}
	done := map[string][2]int64{}
	for _, ev := range out.GetEvents() {
		tx := txs[ev.GetId()]
		d := done[ev.GetId()]
		remQ, remA := tx.GetQuantity()-d[0], tx.GetAmountMinor()-d[1]
		// a = ⌊remA·q/remQ⌋ (small fixture numbers: no overflow).
		if ev.GetAmount()*remQ > remA*ev.GetQty() || (ev.GetAmount()+1)*remQ <= remA*ev.GetQty() {
			t.Errorf("event %v: cash leg not in proportion to %d/%d", ev, remA, remQ)
		}
		if ev.GetKind() == "PARTIALLY_SETTLED" {
			sum := max(tx.GetSum(), 1)
			if ev.GetQty() < max(tx.GetMsu(), 1) || ev.GetQty()%sum != 0 || ev.GetQty() >= remQ {
				t.Errorf("partial %v breaks MSU %d / SUM %d", ev, tx.GetMsu(), sum)
			}
		}
		done[ev.GetId()] = [2]int64{d[0] + ev.GetQty(), d[1] + ev.GetAmount()}
	}
	if e.Settleable() {
		t.Error("a queued transaction is still settleable: recycling is not maximal")
	}
}

// Replay law: the Batch output equals a session that receives the same
// messages (balances, credit, holds, date, transactions, RunCycle) — here
// in a different order of the configuration messages — then Snapshot; a
// second RunCycle changes nothing because recycling is maximal.
func TestSettlementReplayLaw(t *testing.T) {
	f := fixture.KernelFile(t, fixture.DomainFiles(t, "clearing"), "clearing/settlement")
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		in := &clearingv1.SettlementInput{}
		if err := jsoninput.Decode(c.Input, in); err != nil {
			t.Fatal(err)
		}
		job, err := Settlement.Prepare(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		batch, err := Settlement.CPU(context.Background(), job)
		if err != nil {
			t.Fatal(err)
		}
		var eligible []string
		if len(in.GetEligibleParties()) > 0 {
			eligible = in.GetEligibleParties()
		}
		s := settlement.New(eligible)
		s.AdvanceDate(in.GetBusinessDate())
		for _, tx := range in.GetTransactions() {
			s.Add(TxOf(tx))
		}
		for _, p := range in.GetOnHold() {
			s.Hold(p)
		}
		for _, b := range in.GetCreditLimits() {
			s.Credit(b.GetParty(), b.GetCurrency(), b.GetAmountMinor())
		}
		for _, b := range in.GetCash() {
			s.SetCash(b.GetParty(), b.GetCurrency(), b.GetAmountMinor())
		}
		for _, b := range in.GetSecurities() {
			s.SetSecurities(b.GetParty(), b.GetIsin(), b.GetQuantity())
		}
		s.RunCycle()
		if got := SettlementSnapshot(s); !proto.Equal(got, batch) {
			t.Fatalf("%s: session snapshot differs from the batch output", c.Name)
		}
		if evs := s.RunCycle(); len(evs) != 0 {
			t.Fatalf("%s: a second cycle settled %d more", c.Name, len(evs))
		}
	}
}

// checkDvpLaws asserts the matching is one-to-one, every pair meets every
// criterion, the match is maximal (no compatible unmatched DELI/RECE pair
// remains), and a session submitting the instructions one by one ends in
// the batch output (replay law).
func checkDvpLaws(t *testing.T, c fixture.Case, _ map[string]any) {
	in := &clearingv1.DvpMatchingInput{}
	if err := jsoninput.Decode(c.Input, in); err != nil {
		t.Fatal(err)
	}
	job, err := DvpMatching.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DvpMatching.CPU(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]dvp.Instruction{}
	for _, x := range job.Instructions {
		byID[x.ID] = x
	}
	tol := func(a, b int64) int64 {
		if max(a, b) > job.Tolerance.Threshold {
			return job.Tolerance.High
		}
		return job.Tolerance.Low
	}
	compatible := func(d, r dvp.Instruction) bool {
		return d.Direction == "DELI" && r.Direction == "RECE" && d.Party == r.Counterparty && d.Counterparty == r.Party &&
			d.ISIN == r.ISIN && d.Currency == r.Currency && d.TradeDate == r.TradeDate && d.ISD == r.ISD &&
			d.PaymentType == r.PaymentType && d.Quantity == r.Quantity && max(d.Amount-r.Amount, r.Amount-d.Amount) <= tol(d.Amount, r.Amount)
	}
	used := map[string]bool{}
	for _, p := range out.GetPairs() {
		if used[p.GetDeliId()] || used[p.GetReceId()] {
			t.Fatalf("instruction used twice in %v", p)
		}
		used[p.GetDeliId()], used[p.GetReceId()] = true, true
		if !compatible(byID[p.GetDeliId()], byID[p.GetReceId()]) {
			t.Fatalf("pair %v breaks a criterion", p)
		}
	}
	un := out.GetUnmatched()
	if len(un)+2*len(out.GetPairs()) != len(job.Instructions) {
		t.Fatalf("%d unmatched + 2·%d pairs ≠ %d instructions", len(un), len(out.GetPairs()), len(job.Instructions))
	}
	for _, a := range un {
		for _, b := range un {
			if compatible(byID[a.GetId()], byID[b.GetId()]) {
				t.Fatalf("%s and %s are compatible but both unmatched", a.GetId(), b.GetId())
			}
		}
	}
	m := dvp.New(job.Tolerance)
	for _, x := range in.GetInstructions() {
		m.Submit(InstructionOf(x))
	}
	if !proto.Equal(DvpSnapshot(m), out) {
		t.Fatal("the session snapshot differs from the batch output")
	}
}

// checkZeroLaws: zbf ∈ [0, 1] and on time + late + failed = due, in total
// and per party, with the parties adding up to the total.
func checkZeroLaws(t *testing.T, c fixture.Case, _ map[string]any) {
	in := &clearingv1.ZeroBalanceInput{}
	if err := jsoninput.Decode(c.Input, in); err != nil {
		t.Fatal(err)
	}
	job, err := ZeroBalance.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ZeroBalance.CPU(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.GetZbf() {
		if r.GetZbf() < 0 || r.GetZbf() > 1 || r.GetZeroDays() > r.GetDays() {
			t.Errorf("row %v out of range", r)
		}
	}
	due := int32(0)
	for _, e := range append(out.GetParties(), out.GetEfficiency()) {
		if e.GetOnTime()+e.GetLate()+e.GetFailed() != e.GetDue() {
			t.Errorf("%v: on time + late + failed ≠ due", e)
		}
	}
	for _, e := range out.GetParties() {
		due += e.GetDue()
	}
	if due != out.GetEfficiency().GetDue() {
		t.Errorf("parties' due %d ≠ total %d", due, out.GetEfficiency().GetDue())
	}
}
