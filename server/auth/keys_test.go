package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokernels/gokernels/server/config"
)

func sha(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseKeys(t *testing.T) {
	file := fmt.Sprintf(`# gokernels keys
	
viewer-key-0123456789 viewer
exec-key-0123456789	executor  acme   # the acme batch job
sha256:%s admin
SHA-cased-Role-key-012 ADMIN
`, sha("the-admin-key-never-on-disk"))
	ks, err := parseKeys([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 4 {
		t.Fatalf("%d keys, want 4", len(ks))
	}
	for _, c := range []struct {
		key    string
		role   Role
		tenant string
	}{
		{"viewer-key-0123456789", Viewer, ""},
		{"exec-key-0123456789", Executor, "acme"},
		{"the-admin-key-never-on-disk", Admin, ""},
		{"SHA-cased-Role-key-012", Admin, ""},
	} {
		id, ok := ks.lookup(c.key)
		if !ok {
			t.Errorf("%s: not found", c.key)
			continue
		}
		if id.Role != c.role || id.Tenant != c.tenant {
			t.Errorf("%s: role %v tenant %q, want %v %q", c.key, id.Role, id.Tenant, c.role, c.tenant)
		}
		if want := "key:" + sha(c.key)[:12]; id.Principal != want {
			t.Errorf("%s: principal %q, want %q", c.key, id.Principal, want)
		}
	}
	// The sha256: form matches the key, not the digest text itself.
	if _, ok := ks.lookup("sha256:" + sha("the-admin-key-never-on-disk")); ok {
		t.Error("the digest line accepted its own text as a key")
	}
}

func TestKeyFileErrors(t *testing.T) {
	secret := "sk_live_0123456789abcdefghij"
	cases := []struct {
		name, file, want string
	}{
		{"unknown role", "a-key-000000000001 viewer\n\nk3 boss\n", `GOKERNELS_API_KEYS_FILE: line 3: unknown role "boss"`},
		{"key in role column", "admin " + secret + "\n", "line 1: unknown role (28 characters: is the key in the wrong column?)"},
		{"one field", "lonely\n", `line 1: want "key role [tenant]", got 1 fields`},
		{"four fields", "k viewer t extra\n", "line 1: want \"key role [tenant]\", got 4 fields"},
		{"short digest", "sha256:abcd viewer\n", "line 1: a sha256: key needs 64 hex digits"},
		{"bad hex", "sha256:" + strings.Repeat("zz", 32) + " viewer\n", "line 1: a sha256: key needs 64 hex digits"},
		{"duplicate", "k-000000000001 viewer\nsha256:" + sha("k-000000000001") + " admin\n", "line 2: the same key as line 1"},
		{"empty", "# nothing\n\n", "GOKERNELS_API_KEYS_FILE: no keys in"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "keys", c.file)
			_, err := New(&config.Config{APIKeysFile: path}, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q lacks %q", err, c.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q repeats the key", err)
			}
		})
	}
	if _, err := New(&config.Config{APIKeysFile: filepath.Join(t.TempDir(), "missing")}, nil); err == nil || !strings.HasPrefix(err.Error(), "GOKERNELS_API_KEYS_FILE: ") {
		t.Errorf("missing file: %v", err)
	}
}

// TestLookupComparesDigests: lookup hashes the presented key and compares
// digests (fixed length, constant time) against every entry; near misses —
// prefixes, extensions, one byte off, empty — never match, and a match is
// found wherever the entry sits.
func TestLookupComparesDigests(t *testing.T) {
	var lines []string
	for i := range 50 {
		lines = append(lines, fmt.Sprintf("key-%02d-abcdefghijklmnop viewer t%d", i, i))
	}
	ks, err := parseKeys([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, 25, 49} {
		key := fmt.Sprintf("key-%02d-abcdefghijklmnop", i)
		id, ok := ks.lookup(key)
		if !ok || id.Tenant != fmt.Sprintf("t%d", i) {
			t.Errorf("entry %d: %v %v", i, id, ok)
		}
		for _, miss := range []string{key[:len(key)-1], key + "q", key[:len(key)-1] + "Q", strings.ToUpper(key), " " + key} {
			if _, ok := ks.lookup(miss); ok {
				t.Errorf("near miss %q matched", miss)
			}
		}
	}
	if _, ok := ks.lookup(""); ok {
		t.Error("empty key matched")
	}
	var none keySet
	if _, ok := none.lookup("anything"); ok {
		t.Error("empty set matched")
	}
	// Only digests are kept: every entry holds 32 bytes whatever the key's
	// length, and the set keeps no plaintext.
	if s := fmt.Sprintf("%+v", ks); strings.Contains(s, "abcdefghijklmnop") {
		t.Error("the key set holds plaintext keys")
	}
}
