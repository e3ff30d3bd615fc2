// Package coamap maps a local chart of accounts to a group or reporting
// chart by ranked pattern rules (domains.md §9, accounting/coa-mapping).
// Unlike upstream's matcher, which tests prefix and suffix independently
// (so 1*1 matched "1"), a glob here matches the whole code.
package coamap

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
)

// Pattern is a compiled rule pattern.
type Pattern struct {
	rangeLo, rangeHi string // digits, leading zeros stripped; set for a range
	isRange          bool
	glob             string
	// Wildcards is the specificity count (a range counts as 1).
	Wildcards int
	// Prefix is the literal prefix length (a range: the common prefix of its
	// bounds).
	Prefix int
}

var rangeRE = regexp.MustCompile(`^([0-9]+)-([0-9]+)$`)

// Compile parses a pattern.
func Compile(p string) Pattern {
	if m := rangeRE.FindStringSubmatch(p); m != nil {
		n := 0
		for n < len(m[1]) && n < len(m[2]) && m[1][n] == m[2][n] {
			n++
		}
		return Pattern{isRange: true, rangeLo: trim(m[1]), rangeHi: trim(m[2]), Wildcards: 1, Prefix: n}
	}
	w := strings.Count(p, "*") + strings.Count(p, "?")
	pre := strings.IndexAny(p, "*?")
	if pre < 0 {
		pre = len(p)
	}
	return Pattern{glob: p, Wildcards: w, Prefix: pre}
}

func trim(d string) string {
	d = strings.TrimLeft(d, "0")
	if d == "" {
		return "0"
	}
	return d
}

// cmpNum compares two digit strings without leading zeros numerically.
func cmpNum(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b)) }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Match reports whether the code matches.
func (p Pattern) Match(code string) bool {
	if p.isRange {
		if !allDigits(code) {
			return false
		}
		c := trim(code)
		return cmpNum(p.rangeLo, c) <= 0 && cmpNum(c, p.rangeHi) <= 0
	}
	return glob(p.glob, code)
}

// glob matches bytewise-by-rune with * (any run) and ? (one character).
func glob(pat, s string) bool {
	pr, sr := []rune(pat), []rune(s)
	// Iterative matcher with backtracking to the last star: O(len·len).
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(sr) {
		switch {
		case pi < len(pr) && (pr[pi] == '?' || (pr[pi] != '*' && pr[pi] == sr[si])):
			pi++
			si++
		case pi < len(pr) && pr[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pr) && pr[pi] == '*' {
		pi++
	}
	return pi == len(pr)
}

// Rule is a compiled rule.
type Rule struct {
	ID       string
	Index    int
	Priority int32
	Pattern  Pattern
	Entity   string
	// Cond, when set, must hold (CONDITIONAL).
	Cond    func(a Account) bool
	Targets []Target
}

// Target is one target with its ratio.
type Target struct {
	Code  string
	Ratio float64
}

// Account is what the rules look at.
type Account struct {
	Code, Type, Entity string
	Attributes         map[string]string
}

// Best returns the winning rule for the account, or nil.
func Best(rules []Rule, a Account) *Rule {
	var best *Rule
	for i := range rules {
		r := &rules[i]
		if (r.Entity != "" && r.Entity != a.Entity) || !r.Pattern.Match(a.Code) || (r.Cond != nil && !r.Cond(a)) {
			continue
		}
		if best == nil || better(r, best) {
			best = r
		}
	}
	return best
}

func better(a, b *Rule) bool {
	return cmp.Or(
		cmp.Compare(b.Priority, a.Priority),
		cmp.Compare(a.Pattern.Wildcards, b.Pattern.Wildcards),
		cmp.Compare(b.Pattern.Prefix, a.Pattern.Prefix),
		cmp.Compare(a.Index, b.Index),
	) < 0
}

// ParentCycles returns the codes that lie on a cycle of parent links
// (self-parents included), sorted.
func ParentCycles(parent map[string]string) []string {
	state := map[string]int{} // 0 new, 1 on the current path, 2 done
	onCycle := map[string]bool{}
	for start := range parent {
		var path []string
		c := start
		for {
			if state[c] == 2 {
				break
			}
			if state[c] == 1 {
				i := slices.Index(path, c)
				for _, x := range path[i:] {
					onCycle[x] = true
				}
				break
			}
			p, ok := parent[c]
			if !ok {
				break
			}
			state[c] = 1
			path = append(path, c)
			if p == "" {
				break
			}
			c = p
		}
		for _, x := range path {
			state[x] = 2
		}
	}
	out := make([]string, 0, len(onCycle))
	for c := range onCycle {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
