// Package lots is a FIFO lot matcher: inflows append lots (amount, ts),
// outflows consume the oldest lots first. compliance/rapid-movement uses
// it for pass-through detection; holding-period analytics can reuse it.
package lots

// Lot is an unconsumed remainder of one inflow.
type Lot struct {
	Amount float64
	TS     int64
}

// FIFO is a queue of lots.
type FIFO struct {
	lots []Lot
	head int
}

// Push appends a lot.
func (f *FIFO) Push(amount float64, ts int64) {
	if f.head > 0 && f.head*2 >= len(f.lots) { // reclaim consumed space
		n := copy(f.lots, f.lots[f.head:])
		f.lots, f.head = f.lots[:n], 0
	}
	f.lots = append(f.lots, Lot{amount, ts})
}

// Consume draws amount from the oldest lots, calling take for each portion
// with the portion and its lot's ts, and returns what no lot covered.
// Portions are min(lot, remaining); a lot drawn to exactly 0 is removed, so
// the arithmetic is the plain sequence of subtractions a reference repeats.
func (f *FIFO) Consume(amount float64, ts int64, take func(portion float64, lotTS int64)) float64 {
	remaining := amount
	for remaining > 0 && f.head < len(f.lots) {
		l := &f.lots[f.head]
		portion := min(l.Amount, remaining)
		take(portion, l.TS)
		l.Amount -= portion
		remaining -= portion
		if l.Amount <= 0 {
			f.head++
		}
	}
	return remaining
}

// Len is the number of open lots.
func (f *FIFO) Len() int { return len(f.lots) - f.head }

// Balance is the sum of the open lots.
func (f *FIFO) Balance() float64 {
	var s float64
	for _, l := range f.lots[f.head:] {
		s += l.Amount
	}
	return s
}

// Clone returns an independent copy.
func (f *FIFO) Clone() FIFO {
	return FIFO{lots: append([]Lot(nil), f.lots[f.head:]...)}
}

// MergeAged merges the front lots with TS <= before into one lot (amounts
// summed in FIFO order, the oldest TS kept). Once every reader treats lots
// that old alike (they are past a window), this is the same queue under
// FIFO and keeps it bounded by the lots younger than the window.
func (f *FIFO) MergeAged(before int64) {
	if f.head >= len(f.lots) || f.lots[f.head].TS > before {
		return
	}
	end := f.head + 1
	for end < len(f.lots) && f.lots[end].TS <= before {
		f.lots[f.head].Amount += f.lots[end].Amount
		end++
	}
	if end == f.head+1 {
		return
	}
	n := copy(f.lots[f.head+1:], f.lots[end:])
	f.lots = f.lots[:f.head+1+n]
}

// Lots returns the queued lots, oldest first (state encodings; read-only).
func (f *FIFO) Lots() []Lot { return f.lots[f.head:] }

// FromLots returns a queue holding lots, oldest first.
func FromLots(lots []Lot) FIFO { return FIFO{lots: lots} }
