package kernels

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestPTX checks the committed PTX against the sources' contract: every
// module exists, targets PTXTarget, defines the entry points the host
// launches, and was compiled without multiply-add contraction (no fma.rn
// outside libdevice's math functions), which the bit-for-bit agreement with
// the CPU path relies on.
func TestPTX(t *testing.T) {
	for mod, entries := range Modules {
		b, err := os.ReadFile(mod + ".ptx")
		if err != nil {
			t.Fatalf("%s.ptx missing (run make ptx): %v", mod, err)
		}
		ptx := string(b)
		if !strings.Contains(ptx, ".target sm_"+strings.TrimPrefix(PTXTarget, "compute_")) {
			t.Errorf("%s.ptx does not target %s", mod, PTXTarget)
		}
		for _, e := range entries {
			if !regexp.MustCompile(`\.entry\s+` + e + `\(`).MatchString(ptx) {
				t.Errorf("%s.ptx has no entry %s", mod, e)
			}
		}
		// montecarlo's exp/log1p come from libdevice, whose polynomials use
		// explicit fma: those are the math library's, not contractions.
		if strings.Contains(ptx, "fma.rn") && mod != "montecarlo" {
			t.Errorf("%s.ptx contains fused multiply-adds: build it with --fmad=false", mod)
		}
		src, err := os.Stat(mod + ".cu")
		if err != nil {
			t.Fatalf("%s.cu missing", mod)
		}
		gen, _ := os.Stat(mod + ".ptx")
		if src.ModTime().After(gen.ModTime().Add(2e9)) {
			t.Logf("%s.cu is newer than %s.ptx: run make ptx", mod, mod)
		}
	}
}
