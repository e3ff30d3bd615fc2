package text

import (
	"strings"
	"unicode"
)

// This file reproduces the Python string semantics scikit-learn's
// vectorizers rely on — str.lower(), the re module's Unicode \w and \s, and
// str.split() — so that tokens, and therefore their hashes, are the same.

// Analyzer selects what a document is cut into.
type Analyzer int

const (
	// Word: n-grams of tokens matching (?u)\b\w\w+\b, joined by one space.
	Word Analyzer = iota
	// Char: character n-grams of the whole (whitespace-collapsed) text.
	Char
	// CharWB: character n-grams inside words padded with one space each side.
	CharWB
)

// isWord is Python's Unicode \w: letters, numbers and the underscore.
func isWord(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// isSpace is Python's str.isspace (and Unicode \s): Go's unicode.IsSpace
// plus the ASCII information separators U+001C..U+001F.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pythonLower is str.lower(): simple lower-case mappings plus Python's two
// context-dependent ones — U+0130 (İ) becomes "i̇" and a capital sigma that
// ends a word becomes final sigma ς.
func pythonLower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	runes := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range runes {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if finalSigma(runes, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma is Unicode's Final_Sigma condition as CPython applies it: a
// cased letter before (skipping case-ignorable ones) and none after.
func finalSigma(runes []rune, i int) bool {
	j := i - 1
	for j >= 0 && isCaseIgnorable(runes[j]) {
		j--
	}
	if j < 0 || !isCased(runes[j]) {
		return false
	}
	j = i + 1
	for j < len(runes) && isCaseIgnorable(runes[j]) {
		j++
	}
	return j == len(runes) || !isCased(runes[j])
}

func isCased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '\u00b7', '\u0387', '\u055f', '\u05f4', '\u2018', '\u2019', '\u2024', '\u2027',
		'\ufe13', '\ufe52', '\ufe55', '\uff07', '\uff0e', '\uff1a':
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// wordTokens is re.findall(r"(?u)\b\w\w+\b", doc): maximal runs of word
// characters at least two characters long.
func wordTokens(doc string) []string {
	var out []string
	start, count := -1, 0
	for i, r := range doc {
		if isWord(r) {
			if start < 0 {
				start, count = i, 0
			}
			count++
			continue
		}
		if start >= 0 && count >= 2 {
			out = append(out, doc[start:i])
		}
		start = -1
	}
	if start >= 0 && count >= 2 {
		out = append(out, doc[start:])
	}
	return out
}

// wordNgrams is VectorizerMixin._word_ngrams without stop words.
func wordNgrams(tokens []string, minN, maxN int, emit func(string)) {
	if maxN == 1 {
		for _, t := range tokens {
			emit(t)
		}
		return
	}
	if minN == 1 {
		for _, t := range tokens {
			emit(t)
		}
		minN = 2
	}
	for n := minN; n <= min(maxN, len(tokens)); n++ {
		for i := 0; i+n <= len(tokens); i++ {
			emit(strings.Join(tokens[i:i+n], " "))
		}
	}
}

// collapseSpaces is re.sub(r"\s\s+", " ", doc): runs of two or more
// whitespace characters become one space; a single one is kept as is.
func collapseSpaces(doc []rune) []rune {
	out := make([]rune, 0, len(doc))
	for i := 0; i < len(doc); {
		if !isSpace(doc[i]) {
			out = append(out, doc[i])
			i++
			continue
		}
		j := i
		for j < len(doc) && isSpace(doc[j]) {
			j++
		}
		if j-i >= 2 {
			out = append(out, ' ')
		} else {
			out = append(out, doc[i])
		}
		i = j
	}
	return out
}

// charNgrams is VectorizerMixin._char_ngrams.
func charNgrams(doc []rune, minN, maxN int, emit func(string)) {
	doc = collapseSpaces(doc)
	for n := minN; n <= min(maxN, len(doc)); n++ {
		for i := 0; i+n <= len(doc); i++ {
			emit(string(doc[i : i+n]))
		}
	}
}

// charWBNgrams is VectorizerMixin._char_wb_ngrams: n-grams of each
// whitespace-separated word padded with a space on both sides; a padded
// word no longer than n is emitted once, whole, and ends the n loop.
func charWBNgrams(doc []rune, minN, maxN int, emit func(string)) {
	doc = collapseSpaces(doc)
	w := make([]rune, 0, 32)
	for i := 0; i < len(doc); {
		if isSpace(doc[i]) {
			i++
			continue
		}
		j := i
		for j < len(doc) && !isSpace(doc[j]) {
			j++
		}
		w = append(w[:0], ' ')
		w = append(w, doc[i:j]...)
		w = append(w, ' ')
		i = j
		for n := minN; n <= maxN; n++ {
			offset := 0
			emit(string(w[:min(n, len(w))]))
			for offset+n < len(w) {
				offset++
				emit(string(w[offset:min(offset+n, len(w))]))
			}
			if offset == 0 {
				break
			}
		}
	}
}
