package journal

import "testing"

// Calendar and fiscal periods, including a fiscal year starting in April
// (January belongs to the fiscal year that started the previous April).
func TestPeriod(t *testing.T) {
	for _, c := range []struct {
		date string
		s    int
		want string
	}{
		{"2025-03-31", 1, "2025-03"},
		{"2025-03-31", 4, "FY2024-P12"},
		{"2025-04-01", 4, "FY2025-P01"},
		{"2025-01-15", 4, "FY2024-P10"},
		{"2024-02-29", 7, "FY2023-P08"},
		{"2025-12-31", 12, "FY2025-P01"},
		{"2025-11-30", 12, "FY2024-P12"},
	} {
		if got := Period(c.date, c.s); got != c.want {
			t.Errorf("Period(%s, %d) = %s, want %s", c.date, c.s, got, c.want)
		}
	}
}
