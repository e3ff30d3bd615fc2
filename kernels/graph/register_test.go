package graph

import (
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/registry"
)

// TestRegisterFixtures runs every fixture case of every graph kernel through
// the registry the way the server does: JSON input decoded by jsoninput,
// protovalidate, the kernel, and the output rendered as JSON. Registered
// kernels and fixture files match one to one (fixture.RunDomain).
func TestRegisterFixtures(t *testing.T) {
	fixture.RunDomain(t, Register, "graph", map[string]fixture.Adjust{
		"graph/louvain-community": func(_ *testing.T, r *registry.Registry, f fixture.File) (fixture.File, fixture.Check) {
			return f, func(t *testing.T, c fixture.Case, out map[string]any) { checkLouvain(t, r, c, out) }
		},
	})
}
