package auth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// keyEntry is one line of the key file. Only the key's SHA-256 digest is
// kept: plaintext keys are hashed as they are read.
type keyEntry struct {
	sum    [sha256.Size]byte
	role   Role
	tenant string
	line   int
	// principal is keyPrincipal(sum), made once at load rather than on
	// every request.
	principal string
}

// keySet is the loaded key file.
type keySet []keyEntry

// principalHexDigits is how much of the key's digest names its principal:
// enough that distinct keys do not share a rate-limit bucket, far too
// little to help guess the key.
const principalHexDigits = 12

// lookup finds the entry for a presented key. It hashes the key and
// compares the digest with every entry in constant time, without stopping
// at a match, so the time taken says nothing about which key, or how much
// of one, matched.
func (ks keySet) lookup(presented string) (Identity, bool) {
	if len(ks) == 0 {
		return Identity{}, false
	}
	sum := sha256.Sum256([]byte(presented))
	found := -1
	for i := range ks {
		eq := subtle.ConstantTimeCompare(sum[:], ks[i].sum[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return Identity{}, false
	}
	e := ks[found]
	return Identity{Principal: e.principal, Role: e.role, Tenant: e.tenant}, true
}

// keyPrincipal names a key's holder by the start of the key's digest, which
// an operator can match against a sha256: line of the key file.
func keyPrincipal(sum [sha256.Size]byte) string {
	return "key:" + hex.EncodeToString(sum[:])[:principalHexDigits]
}

func loadKeyFile(path string) (keySet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ks, err := parseKeys(b)
	if err != nil {
		return nil, err
	}
	if len(ks) == 0 {
		return nil, fmt.Errorf("no keys in %s", path)
	}
	return ks, nil
}

// parseKeys reads the key file format: one "key role [tenant]" line per key,
// fields separated by spaces or tabs; blank lines and lines starting with #
// are ignored, as is a trailing "# comment". key is the key itself or
// "sha256:<64 hex digits>", the digest of the key (e.g. from
// `printf %s "$KEY" | sha256sum`). Errors give the line number but never the
// key.
func parseKeys(b []byte) (keySet, error) {
	var ks keySet
	seen := map[[sha256.Size]byte]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		for i, f := range fields {
			if strings.HasPrefix(f, "#") {
				fields = fields[:i]
				break
			}
		}
		if len(fields) < 2 || len(fields) > 3 {
			return nil, fmt.Errorf("line %d: want \"key role [tenant]\", got %d fields", n, len(fields))
		}
		e := keyEntry{line: n}
		if hexSum, ok := strings.CutPrefix(fields[0], "sha256:"); ok {
			raw, err := hex.DecodeString(hexSum)
			if err != nil || len(raw) != sha256.Size {
				return nil, fmt.Errorf("line %d: a sha256: key needs 64 hex digits", n)
			}
			copy(e.sum[:], raw)
		} else {
			e.sum = sha256.Sum256([]byte(fields[0]))
		}
		role, ok := ParseRole(fields[1])
		if !ok {
			return nil, fmt.Errorf("line %d: unknown role %s (want viewer, executor or admin)", n, quoteRole(fields[1]))
		}
		e.role = role
		if len(fields) == 3 {
			e.tenant = fields[2]
		}
		if prev, dup := seen[e.sum]; dup {
			return nil, fmt.Errorf("line %d: the same key as line %d", n, prev)
		}
		seen[e.sum] = n
		e.principal = keyPrincipal(e.sum)
		ks = append(ks, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return ks, nil
}

// quoteRole quotes a bad role for an error message, unless it is long
// enough to be a key written in the wrong column, which must not be logged.
func quoteRole(s string) string {
	if len(s) > 16 {
		return fmt.Sprintf("(%d characters: is the key in the wrong column?)", len(s))
	}
	return fmt.Sprintf("%q", s)
}
