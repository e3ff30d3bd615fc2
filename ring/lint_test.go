package ring

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestHandlersAreDeterministic forbids the wall clock and math/rand in
// every package that implements ring handlers (those importing
// kernels/fold): replay re-executes handlers, so time and randomness must
// come from the fold.Context, recorded in the journal.
func TestHandlersAreDeterministic(t *testing.T) {
	root := filepath.Join("..", "kernels")
	handlerPkgs := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		// The handler API itself and its test fake (foldtest.Context makes
		// the seeded generator a handler reads through Rand) are not handlers.
		if dir := filepath.Base(filepath.Dir(path)); dir == "fold" || dir == "foldtest" {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		usesFold := false
		for _, im := range f.Imports {
			if p, _ := strconv.Unquote(im.Path.Value); p == "github.com/gokernels/gokernels/kernels/fold" {
				usesFold = true
			}
		}
		if !usesFold {
			return nil
		}
		handlerPkgs++
		// Every non-test file of the handler's package is checked.
		files, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.go"))
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			pf, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
			if err != nil {
				return err
			}
			for _, im := range pf.Imports {
				p, _ := strconv.Unquote(im.Path.Value)
				if p == "math/rand" || p == "math/rand/v2" {
					t.Errorf("%s imports %s: ring handlers take randomness from fold.Context.Rand", name, p)
				}
			}
			src := readFile(t, name)
			for _, banned := range []string{"time.Now(", "time.Since(", "time.Until("} {
				if strings.Contains(src, banned) {
					t.Errorf("%s calls %s: ring handlers take time from fold.Context", name, strings.TrimSuffix(banned, "("))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if handlerPkgs == 0 {
		t.Skip("no handler packages yet")
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
