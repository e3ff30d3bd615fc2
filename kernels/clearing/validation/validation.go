// Package validation checks clearing trades and reports each breach with a
// code (domains.md §7): status, quantity and amount, eligibility, the ISO
// 6166 ISIN check digit, the currency list, settlement dates in business
// days (numpy.busday_count semantics), trade limits and running position
// limits.
package validation

import (
	"fmt"
	"slices"

	"github.com/gokernels/gokernels/kernels/clearing/calendar"
)

// Trade is one trade with parsed dates.
type Trade struct {
	ID, ISIN, Buyer, Seller, Currency, Status string
	Quantity, Amount                          int64
	TradeDate, SettlementDate                 calendar.Day
}

// Rules configure the checks; nil sets mean "all allowed".
type Rules struct {
	Parties, Securities, Currencies map[string]bool
	Calendar                        calendar.Calendar
	Standard, Min, Max              int64
	TradeLimits, PositionLimits     map[string]int64
}

// Issue is one finding.
type Issue struct{ Code, Severity, Message string }

// Result is one trade's outcome.
type Result struct {
	ID           string
	Errors       []Issue
	Warnings     []Issue
	BusinessDays int64
}

// ValidISIN reports whether s is 2 letters, 9 alphanumerics and a digit
// that passes the Luhn check over the letters expanded to 10–35.
func ValidISIN(s string) bool {
	if len(s) != 12 {
		return false
	}
	var digits []int
	for i := range 12 {
		c := s[i]
		switch {
		case c >= '0' && c <= '9' && i >= 2:
			digits = append(digits, int(c-'0'))
		case c >= 'A' && c <= 'Z' && i < 11:
			v := int(c-'A') + 10
			digits = append(digits, v/10, v%10)
		default:
			return false
		}
	}
	sum := 0
	for i := range digits {
		d := digits[len(digits)-1-i]
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func validCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// Validate checks the trades in input order.
func Validate(trades []Trade, r Rules) []Result {
	type pk struct{ party, isin string }
	pos := map[pk]int64{}
	out := make([]Result, len(trades))
	for i, t := range trades {
		res := Result{ID: t.ID}
		bad := func(code, format string, args ...any) {
			res.Errors = append(res.Errors, Issue{code, "CRITICAL", fmt.Sprintf(format, args...)})
		}
		warn := func(code, format string, args ...any) {
			res.Warnings = append(res.Warnings, Issue{code, "WARNING", fmt.Sprintf(format, args...)})
		}
		if t.Status != "PENDING" {
			bad("INVALID_STATUS", "status %q is not PENDING", t.Status)
		}
		if t.Quantity <= 0 {
			bad("ZERO_QUANTITY", "quantity %d is not positive", t.Quantity)
		}
		if t.Amount <= 0 {
			bad("NON_POSITIVE_AMOUNT", "amount_minor %d is not positive", t.Amount)
		}
		if r.Parties != nil && !r.Parties[t.Buyer] {
			bad("BUYER_NOT_ELIGIBLE", "buyer %q is not eligible", t.Buyer)
		}
		if r.Parties != nil && !r.Parties[t.Seller] {
			bad("SELLER_NOT_ELIGIBLE", "seller %q is not eligible", t.Seller)
		}
		if r.Securities != nil && !r.Securities[t.ISIN] {
			bad("SECURITY_NOT_ELIGIBLE", "security %q is not eligible", t.ISIN)
		}
		if !ValidISIN(t.ISIN) {
			bad("INVALID_ISIN", "%q fails the ISO 6166 format or check digit", t.ISIN)
		}
		if !validCurrency(t.Currency) || r.Currencies != nil && !r.Currencies[t.Currency] {
			bad("UNKNOWN_CURRENCY", "currency %q is not accepted", t.Currency)
		}
		res.BusinessDays = r.Calendar.Count(t.TradeDate, t.SettlementDate)
		if t.SettlementDate < t.TradeDate {
			bad("SETTLEMENT_BEFORE_TRADE", "settlement date precedes the trade date")
		} else {
			switch {
			case res.BusinessDays < r.Min:
				bad("SETTLEMENT_TOO_SOON", "%d business days < %d", res.BusinessDays, r.Min)
			case res.BusinessDays > r.Max:
				bad("SETTLEMENT_TOO_FAR", "%d business days > %d", res.BusinessDays, r.Max)
			}
			if res.BusinessDays != r.Standard {
				warn("OFF_STANDARD_CYCLE", "T+%d, standard T+%d", res.BusinessDays, r.Standard)
			}
		}
		if !r.Calendar.IsBusinessDay(t.SettlementDate) {
			bad("SETTLEMENT_NOT_BUSINESS_DAY", "settlement date is a weekend or holiday")
		}
		if lim, ok := r.TradeLimits[t.ISIN]; ok && max(t.Quantity, -t.Quantity) > lim {
			bad("EXCEEDS_TRADE_LIMIT", "|quantity| %d > %d", t.Quantity, lim)
		}
		// Every trade, valid or not, moves the positions.
		b, s := pk{t.Buyer, t.ISIN}, pk{t.Seller, t.ISIN}
		pos[b] += t.Quantity
		pos[s] -= t.Quantity
		if lim, ok := r.PositionLimits[t.ISIN]; ok && (max(pos[b], -pos[b]) > lim || max(pos[s], -pos[s]) > lim) {
			bad("EXCEEDS_POSITION_LIMIT", "a net position exceeds %d", lim)
		}
		if t.Buyer == t.Seller {
			warn("SELF_TRADE", "buyer and seller are the same party")
		}
		byCode := func(a, b Issue) int {
			switch {
			case a.Code < b.Code:
				return -1
			case a.Code > b.Code:
				return 1
			}
			return 0
		}
		slices.SortFunc(res.Errors, byCode)
		slices.SortFunc(res.Warnings, byCode)
		out[i] = res
	}
	return out
}
