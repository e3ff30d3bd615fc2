// Package names is the name matching shared by entity-resolution,
// sanctions-screening and pep-screening: a normaliser (NFKC, Unicode case
// folding, punctuation to space, whitespace collapsed), Jaro-Winkler equal
// to python3-jellyfish 0.8.9's jaro_winkler_similarity, token sort,
// American Soundex with ASCII folding, and the lossless length bound that
// lets a screen skip names that cannot reach a minimum score.
package names

import (
	"encoding/binary"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

var folder = cases.Fold()

// isSpace is Python's str.isspace as used by str.split(): Unicode
// White_Space plus the information separators U+001C..U+001F.
func isSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// Normalize returns NFKC(s), case folded, with punctuation (Unicode
// category P*) replaced by spaces and whitespace runs collapsed to one
// space, trimmed: Python's " ".join(re_punct(casefold(NFKC(s))).split()).
func Normalize(s string) string {
	s = folder.String(norm.NFKC.String(strings.ToValidUTF8(s, "\uFFFD")))
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsPunct(r) || isSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TokenSort returns the space-separated tokens of a normalised name sorted
// by code point and joined by one space.
func TokenSort(s string) string {
	t := strings.Split(s, " ")
	if len(t) < 2 {
		return s
	}
	slices.Sort(t)
	return strings.Join(t, " ")
}

// Name is a normalised name prepared for repeated comparison.
type Name struct {
	Text   string // normalised
	Runes  []rune // normalised
	Sorted []rune // token-sorted
	same   bool   // Sorted equals Runes
	// hist counts the code points per bucket (rune mod 64), one byte per
	// bucket packed eight to a word; histOK is false when a bucket would
	// pass 127 (then no bound uses it). Token sort keeps the multiset, so
	// one histogram serves both forms.
	hist   [8]uint64
	histOK bool
}

func histogram(r []rune) ([8]uint64, bool) {
	var h [64]uint8
	for _, c := range r {
		b := &h[uint32(c)%64]
		if *b == 127 {
			return [8]uint64{}, false
		}
		*b++
	}
	var w [8]uint64
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(h[8*i:])
	}
	return w, true
}

// sharedCount is Σ_bucket min(count_a, count_b) over two histograms whose
// counts are below 128, eight buckets per word (SWAR): per byte, the high
// bit of (a|0x80) - b is set exactly when a >= b, which selects b or a as
// the minimum; the minima are summed in 16-bit lanes.
func sharedCount(a, b *[8]uint64) int {
	const hi = 0x8080808080808080
	const lanes = 0x00ff00ff00ff00ff
	var sum uint64
	for i := range a {
		x, y := a[i], b[i]
		ge := (((x | hi) - y) & hi) >> 7 * 0xff // 0xff where x >= y
		m := (y & ge) | (x &^ ge)
		sum += m&lanes + (m>>8)&lanes
	}
	return int((sum * 0x0001000100010001) >> 48)
}

func prefix(a, b []rune) int {
	p := 0
	for p < min(len(a), len(b), 4) && a[p] == b[p] {
		p++
	}
	return p
}

// Prepare normalises s for Compare.
func Prepare(s string) Name {
	n := Normalize(s)
	ts := TokenSort(n)
	r := []rune(n)
	h, ok := histogram(r)
	if ts == n {
		return Name{Text: n, Runes: r, Sorted: r, same: true, hist: h, histOK: ok}
	}
	return Name{Text: n, Runes: r, Sorted: []rune(ts), hist: h, histOK: ok}
}

// Compare is the name comparator: max(JW(a, b), JW(token_sort(a),
// token_sort(b))) on normalised names.
func Compare(a, b Name) float64 {
	s := JaroWinkler(a.Runes, b.Runes)
	if a.same && b.same {
		return s
	}
	return max(s, JaroWinkler(a.Sorted, b.Sorted))
}

// Bound is an upper bound of Compare for names of l1 and l2 code points:
// Jaro <= J* = (m/l1 + m/l2 + 1)/3 with m = min(l1, l2), and the Winkler
// bonus adds at most 0.4(1 - J). Token sort keeps lengths, so the bound
// holds for both terms of Compare.
func Bound(l1, l2 int) float64 {
	if l1 == 0 || l2 == 0 {
		return 0
	}
	m := float64(min(l1, l2))
	j := (m/float64(l1) + m/float64(l2) + 1) / 3
	return j + 0.4*(1-j)
}

// Skip reports whether names of lengths l1 and l2 cannot reach minScore;
// the 1e-12 margin keeps scores equal to minScore under rounding.
func Skip(l1, l2 int, minScore float64) bool {
	return Bound(l1, l2) < minScore-1e-12
}

// JaroWinkler is jellyfish.jaro_winkler_similarity(s1, s2) (long_tolerance
// off), operation for operation: the search range max(l1, l2)/2 - 1, the
// first free match in range, transpositions floor(t/2), and the prefix
// bonus (up to 4 code points, scale 0.1) only when Jaro > 0.7. Either
// string empty gives 0.
func JaroWinkler(s1, s2 []rune) float64 {
	l1, l2 := len(s1), len(s2)
	if l1 == 0 || l2 == 0 {
		return 0
	}
	searchRange := max(l1, l2)/2 - 1
	if searchRange < 0 {
		searchRange = 0
	}
	var buf1, buf2 [64]bool
	var f1, f2 []bool
	if l1 <= 64 && l2 <= 64 {
		f1, f2 = buf1[:l1], buf2[:l2]
	} else {
		f1, f2 = make([]bool, l1), make([]bool, l2)
	}
	common := 0
	for i, c := range s1 {
		lo := max(0, i-searchRange)
		hi := min(i+searchRange, l2-1)
		for j := lo; j <= hi; j++ {
			if !f2[j] && s2[j] == c {
				f1[i], f2[j] = true, true
				common++
				break
			}
		}
	}
	if common == 0 {
		return 0
	}
	k, trans := 0, 0
	for i := range s1 {
		if !f1[i] {
			continue
		}
		j := k
		for ; j < l2; j++ {
			if f2[j] {
				k = j + 1
				break
			}
		}
		if s1[i] != s2[j] {
			trans++
		}
	}
	trans /= 2
	c := float64(common)
	w := (c/float64(l1) + c/float64(l2) + (c-float64(trans))/c) / 3
	if w > 0.7 {
		p := 0
		for p < min(l1, l2, 4) && s1[p] == s2[p] {
			p++
		}
		if p > 0 {
			w += float64(p) * 0.1 * (1.0 - w)
		}
	}
	return w
}

// asciiFold maps letters NFKD does not decompose to their ASCII spellings.
var asciiFold = strings.NewReplacer("ł", "l", "ø", "o", "ß", "ss", "æ", "ae", "œ", "oe",
	"đ", "d", "ð", "d", "þ", "th", "ı", "i", "ħ", "h")

// FoldASCII lowercases a token, folds it to ASCII (ł->l, ø->o, ß->ss,
// æ->ae, œ->oe, đ/ð->d, þ->th, ı->i, ħ->h, then NFKD) and keeps only the
// letters a-z: combining marks and every other character are dropped.
func FoldASCII(tok string) string {
	s := norm.NFKD.String(asciiFold.Replace(strings.ToLower(tok)))
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// soundexCode is the digit of each letter a-z; 0 for vowels and y, '-'
// for h and w (which do not separate letters with equal codes).
var soundexCode = [26]byte{
	'0', '1', '2', '3', '0', '1', '2', '-', '0', '2', '2', '4', '5',
	'5', '0', '1', '2', '6', '2', '3', '0', '1', '-', '2', '0', '2',
}

// Soundex is American Soundex (NARA rules) of a token folded with
// FoldASCII; "" when the token has no letter. On ASCII letters it equals
// jellyfish.soundex.
func Soundex(tok string) string {
	s := FoldASCII(tok)
	if s == "" {
		return ""
	}
	out := []byte{s[0] - 'a' + 'A'}
	last := soundexCode[s[0]-'a']
	for i := 1; i < len(s) && len(out) < 4; i++ {
		c := soundexCode[s[i]-'a']
		switch c {
		case '-': // h, w: keep last
		case '0':
			last = 0
		default:
			if c != last {
				out = append(out, c)
			}
			last = c
		}
	}
	for len(out) < 4 {
		out = append(out, '0')
	}
	return string(out)
}

// LastToken is the last space-separated token of a normalised name.
func LastToken(s string) string {
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		return s[i+1:]
	}
	return s
}
