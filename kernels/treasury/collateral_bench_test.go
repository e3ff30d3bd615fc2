package treasury

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"syscall"
	"testing"

	treasuryv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/treasury/v1"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// BenchmarkCollateral200x50 solves the fixture's 200 assets × 50
// requirements cases (the same inputs scripts/bench/markets.py gives CBC).
// It times CollateralOpt.CPU: building the LP from the validated job and
// both phases (Prepare's validation and JSON decoding are outside the
// clock), in wall time and in process CPU seconds (cpu-s/op).
// Reproduce: go test ./kernels/treasury -run '^$' -bench Collateral200x50
func BenchmarkCollateral200x50(b *testing.B) {
	raw, err := os.ReadFile("../../testdata/fixtures/treasury/collateral-opt.json")
	if err != nil {
		b.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Name  string          `json:"name"`
			Input json.RawMessage `json:"input"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, c := range file.Cases {
		if !strings.HasPrefix(c.Name, "random_200x50_") {
			continue
		}
		n++
		in := &treasuryv1.CollateralOptInput{}
		if err := jsoninput.Decode(c.Input, in); err != nil {
			b.Fatal(err)
		}
		job, err := CollateralOpt.Prepare(context.Background(), in)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.Name, func(b *testing.B) {
			c0 := cpuSeconds()
			for b.Loop() {
				if _, err := CollateralOpt.CPU(context.Background(), job); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/op")
		})
	}
	if n == 0 {
		b.Fatal("no random_200x50_ case in the fixture")
	}
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
