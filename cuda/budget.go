package cuda

import (
	"fmt"
	"sync"
)

// Budget is the device-memory budget of one GPU (GOKERNELS_GPU_MEMORY_LIMIT,
// or 90% of the device): each GPU execution reserves its estimated device
// bytes for as long as it runs, and an execution that does not fit is not
// started on that device.
type Budget struct {
	mu       sync.Mutex
	limit    int64
	reserved int64
	peak     int64
	running  int
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget { return &Budget{limit: max(0, limit)} }

// Limit is the budget in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Reserved is the number of bytes reserved now.
func (b *Budget) Reserved() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.reserved
}

// Available is Limit − Reserved.
func (b *Budget) Available() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limit - b.reserved
}

// Peak is the highest reservation seen.
func (b *Budget) Peak() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// Fits reports whether a request of n bytes could ever run (n ≤ Limit).
func (b *Budget) Fits(n int64) bool { return n <= b.limit }

// TryReserve reserves n bytes if they are available now.
func (b *Budget) TryReserve(n int64) (*Reservation, bool) {
	if n < 0 {
		n = 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.limit-b.reserved {
		return nil, false
	}
	b.reserved += n
	b.running++
	b.peak = max(b.peak, b.reserved)
	return &Reservation{b: b, n: n}, true
}

// Reservation is a held part of a Budget.
type Reservation struct {
	once sync.Once
	b    *Budget
	n    int64
}

// Bytes is the reserved size.
func (r *Reservation) Bytes() int64 { return r.n }

// Release returns the bytes to the budget; later calls do nothing.
func (r *Reservation) Release() {
	r.once.Do(func() {
		r.b.mu.Lock()
		r.b.reserved -= r.n
		r.b.running--
		r.b.mu.Unlock()
	})
}

// BudgetError says a GPU execution did not fit the device-memory budget.
type BudgetError struct {
	Need, Limit, Available int64
	// Never is true when the request is larger than the whole budget (a
	// retry cannot help), false when other executions hold the memory now.
	Never bool
}

func (e *BudgetError) Error() string {
	if e.Never {
		return fmt.Sprintf("needs an estimated %s of device memory, more than the GPU memory budget of %s (GOKERNELS_GPU_MEMORY_LIMIT)",
			Bytes(e.Need), Bytes(e.Limit))
	}
	return fmt.Sprintf("needs an estimated %s of device memory; %s of the %s GPU memory budget is free now",
		Bytes(e.Need), Bytes(e.Available), Bytes(e.Limit))
}

// Bytes formats a byte count for messages (binary units).
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// DefaultLimit is the budget for a device of total bytes when none is
// configured: 90% of the device.
func DefaultLimit(configured, total int64) int64 {
	if configured > 0 {
		return configured
	}
	return total / 10 * 9
}
