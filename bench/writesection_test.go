package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteSectionKeepsOthersAndNotes: only the bench-serve section is
// replaced; other sections and the notes after the notes marker survive.
func TestWriteSectionKeepsOthersAndNotes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.md")
	if err := writeSection(path, "## Serving overhead\n\nfirst\n"); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(path)
	withOthers := "# Benchmarks\n\n<!-- bench:graph:start -->\ngraph\n<!-- bench:graph:end -->\n\n" +
		strings.Replace(string(orig), notesMarker+"\n", notesMarker+"\nmy notes\n", 1) + "\n## Later\n"
	if err := os.WriteFile(path, []byte(withOthers), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeSection(path, "## Serving overhead\n\nsecond\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	got := string(b)
	for _, want := range []string{"<!-- bench:graph:start -->\ngraph\n<!-- bench:graph:end -->", "second", notesMarker + "\nmy notes\n" + endMarker, "## Later"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "first") || strings.Count(got, startMarker) != 1 {
		t.Errorf("old section kept or duplicated:\n%s", got)
	}
}
