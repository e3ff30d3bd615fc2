package compliance

import (
	"testing"

	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring/ringreplay"
)

// FuzzRingReplayLaw: any input a compliance Ring kernel accepts as Batch,
// fed to its ring as data messages (with a state round trip), snapshots
// to the Batch output exactly. Seeds: the fixture inputs.
func FuzzRingReplayLaw(f *testing.F) {
	r := registry.New()
	if err := Register(r); err != nil {
		f.Fatal(err)
	}
	ringreplay.Fuzz(f, r, "compliance")
}
