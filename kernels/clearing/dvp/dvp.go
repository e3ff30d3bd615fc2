// Package dvp matches settlement instructions as T2S does (ISO 20022
// sese.023): opposite directions, cross-equal parties, equal isin,
// currency, dates, payment type and quantity, and amounts within a
// tolerance band. In arrival order each instruction takes the
// earliest-arrived unmatched compatible counter-instruction, so the
// matching is one-to-one and maximal.
//
// Matcher is a state machine (Submit per instruction, Cancel, Snapshot);
// the Batch kernel submits its list in order.
package dvp

// Instruction is one side's settlement instruction.
type Instruction struct {
	ID, Direction, Party, Counterparty, ISIN, Currency, TradeDate, ISD, PaymentType string
	Quantity, Amount                                                                int64
}

// Tolerance is the T2S amount tolerance band.
type Tolerance struct{ High, Low, Threshold int64 }

func (t Tolerance) of(a, b int64) int64 {
	if max(a, b) > t.Threshold {
		return t.High
	}
	return t.Low
}

// Pair is one match.
type Pair struct {
	Deli, Rece          string
	AmountDiff, Matched int64
}

// Unmatched is an instruction left unmatched with its reason.
type Unmatched struct{ ID, Reason string }

// key groups instructions that match on everything but the amount: the
// deliverer and receiver parties are ordered by role.
type key struct {
	isin, ccy, isd, td, pt string
	qty                    int64
	deliverer, receiver    string
}

func keyOf(x *Instruction) key {
	k := key{x.ISIN, x.Currency, x.ISD, x.TradeDate, x.PaymentType, x.Quantity, x.Party, x.Counterparty}
	if x.Direction == "RECE" {
		k.deliverer, k.receiver = x.Counterparty, x.Party
	}
	return k
}

type entry struct {
	ins     *Instruction
	arrival int
	matched bool
}

// Matcher is the matching state.
type Matcher struct {
	tol   Tolerance
	pool  map[key][2][]*entry // FIFO per direction: 0 DELI, 1 RECE
	all   []*entry
	byID  map[string]*entry
	pairs []Pair
}

// New returns an empty matcher.
func New(t Tolerance) *Matcher {
	return &Matcher{tol: t, pool: map[key][2][]*entry{}, byID: map[string]*entry{}}
}

func dir(d string) int {
	if d == "RECE" {
		return 1
	}
	return 0
}

// Submit matches x against the earliest compatible unmatched
// counter-instruction, or pools it; it returns the pair when matched.
func (m *Matcher) Submit(x Instruction) (Pair, bool) {
	e := &entry{ins: &x, arrival: len(m.all)}
	m.all = append(m.all, e)
	m.byID[x.ID] = e
	k := keyOf(&x)
	fifo := m.pool[k]
	d := dir(x.Direction)
	opp := fifo[1-d]
	for i, c := range opp {
		diff := max(c.ins.Amount-x.Amount, x.Amount-c.ins.Amount)
		if diff > m.tol.of(c.ins.Amount, x.Amount) {
			continue
		}
		c.matched, e.matched = true, true
		fifo[1-d] = append(opp[:i:i], opp[i+1:]...)
		m.pool[k] = fifo
		p := Pair{Deli: c.ins.ID, Rece: x.ID, AmountDiff: diff, Matched: c.ins.Amount}
		if d == 0 {
			p.Deli, p.Rece, p.Matched = x.ID, c.ins.ID, x.Amount
		}
		m.pairs = append(m.pairs, p)
		return p, true
	}
	fifo[d] = append(fifo[d], e)
	m.pool[k] = fifo
	return Pair{}, false
}

// Cancel withdraws an unmatched instruction; it reports false for an
// unknown or matched one.
func (m *Matcher) Cancel(id string) bool {
	e := m.byID[id]
	if e == nil || e.matched {
		return false
	}
	k := keyOf(e.ins)
	fifo := m.pool[k]
	d := dir(e.ins.Direction)
	for i, c := range fifo[d] {
		if c == e {
			fifo[d] = append(fifo[d][:i:i], fifo[d][i+1:]...)
		}
	}
	m.pool[k] = fifo
	e.matched = true // withdrawn: neither matched nor unmatched any more
	delete(m.byID, id)
	for i, c := range m.all {
		if c == e {
			m.all = append(m.all[:i:i], m.all[i+1:]...)
			break
		}
	}
	return true
}

// Pending reports whether id is a live unmatched instruction (one Cancel
// would withdraw).
func (m *Matcher) Pending(id string) bool {
	e := m.byID[id]
	return e != nil && !e.matched
}

// Pairs returns the matches in match order.
func (m *Matcher) Pairs() []Pair { return m.pairs }

// Submitted is the number of live instructions.
func (m *Matcher) Submitted() int { return len(m.all) }

// criteria lists the failed criteria of a against b in reason order.
func (m *Matcher) failed(a, b *Instruction) []string {
	var f []string
	if a.Party != b.Counterparty || a.Counterparty != b.Party {
		f = append(f, "PARTY")
	}
	if a.Currency != b.Currency {
		f = append(f, "CURRENCY")
	}
	if a.TradeDate != b.TradeDate || a.ISD != b.ISD {
		f = append(f, "DATE")
	}
	if a.PaymentType != b.PaymentType {
		f = append(f, "PAYMENT_TYPE")
	}
	if a.Quantity != b.Quantity {
		f = append(f, "QUANTITY")
	}
	if max(a.Amount-b.Amount, b.Amount-a.Amount) > m.tol.of(a.Amount, b.Amount) {
		f = append(f, "AMOUNT_TOLERANCE")
	}
	return f
}

// Unmatched returns the unmatched instructions in arrival order with the
// first failed criterion against the closest unmatched opposite
// instruction of the same isin (fewest failures, earliest on ties).
func (m *Matcher) Unmatched() []Unmatched {
	byISIN := map[string][]*entry{}
	for _, e := range m.all {
		if !e.matched {
			byISIN[e.ins.ISIN] = append(byISIN[e.ins.ISIN], e)
		}
	}
	var out []Unmatched
	for _, e := range m.all {
		if e.matched {
			continue
		}
		reason, best := "NO_COUNTERPART", 1<<30
		for _, c := range byISIN[e.ins.ISIN] {
			if c.ins.Direction == e.ins.Direction {
				continue
			}
			if f := m.failed(e.ins, c.ins); len(f) < best && len(f) > 0 {
				reason, best = f[0], len(f)
			}
		}
		out = append(out, Unmatched{e.ins.ID, reason})
	}
	return out
}
