package catalog

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gokernels/gokernels/kernels/registry"
)

// referenceModes reads the reference product's catalog (a verbatim copy of
// its 106 ids and modes in testdata/reference-catalog.md): id → "B" or "R".
func referenceModes(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "reference-catalog.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	modes := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 4 || !strings.Contains(cells[1], "/") {
			continue
		}
		modes[strings.TrimSpace(cells[1])] = strings.TrimSpace(cells[2])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(modes) != 106 {
		t.Fatalf("reference catalog: %d ids, want 106", len(modes))
	}
	return modes
}

// notYetServed are the reference ids this server does not execute yet. The
// list may only shrink: an id served here must leave it.
var notYetServed = []string{}

// ringPending are Ring ids served as Batch whose ring handler has not landed
// yet. The list may only shrink: an id with a handler must leave it.
var ringPending = []string{}

// TestCatalogMatchesReference: every served id is a reference id with the
// reference's modes (every Ring id also runs as Batch, the replay law's
// twin, and has a ring handler); every reference id is served or listed in
// notYetServed. This is what keeps the per-domain tests free of hand-kept
// id lists.
func TestCatalogMatchesReference(t *testing.T) {
	ref := referenceModes(t)
	reg, err := New()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, k := range reg.List("", 0) {
		served[k.ID] = true
		mode, ok := ref[k.ID]
		if !ok {
			t.Errorf("%s is served but is not a reference catalog id", k.ID)
			continue
		}
		if !k.SupportsBatch() {
			t.Errorf("%s does not run as Batch", k.ID)
		}
		_, handler := k.RingHandler()
		pending := slices.Contains(ringPending, k.ID)
		if ring := mode == "R"; k.HasMode(registry.Ring) != ring || handler != (ring && !pending) {
			t.Errorf("%s: reference mode %s, served modes %v, ring handler %v (listed as pending: %v)", k.ID, mode, k.Modes, handler, pending)
		}
	}
	for id := range ref {
		if !served[id] && !slices.Contains(notYetServed, id) {
			t.Errorf("%s is neither served nor listed in notYetServed", id)
		}
	}
	for _, id := range notYetServed {
		if served[id] {
			t.Errorf("%s is served now: remove it from notYetServed", id)
		}
	}
}
