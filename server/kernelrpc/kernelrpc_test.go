package kernelrpc_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/server/kernelrpc"
)

// TestRegistryEqualsProtoServices: the typed services in the protos list
// exactly the registry's kernels, each once, with the kernel's input and
// output messages, its modes and description, in the service of its
// domain's proto package, on the REST route POST /kernels/{id}:execute.
func TestRegistryEqualsProtoServices(t *testing.T) {
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	methods := kernelrpc.Methods()
	byID := map[string]kernelrpc.Method{}
	for _, m := range methods {
		if _, dup := byID[m.KernelID]; dup {
			t.Errorf("kernel %s has two typed RPCs", m.KernelID)
		}
		byID[m.KernelID] = m
	}
	kernels := reg.List("", 0)
	if len(kernels) < 90 {
		t.Fatalf("catalog has only %d kernels", len(kernels))
	}
	for _, k := range kernels {
		m, ok := byID[k.ID]
		if !ok {
			t.Errorf("kernel %s has no typed RPC (run make generate)", k.ID)
			continue
		}
		delete(byID, k.ID)
		if got, want := m.Desc.Input().FullName(), k.Input.Descriptor().FullName(); got != want {
			t.Errorf("%s takes %s, kernel %s takes %s", m.FullMethod, got, k.ID, want)
		}
		if got, want := m.Desc.Output().FullName(), k.Output.Descriptor().FullName(); got != want {
			t.Errorf("%s returns %s, kernel %s returns %s", m.FullMethod, got, k.ID, want)
		}
		var modes []string
		for _, md := range k.Modes {
			modes = append(modes, md.String())
		}
		if !slices.Equal(m.Modes, modes) {
			t.Errorf("%s: option modes %v, registry %v", m.FullMethod, m.Modes, modes)
		}
		if m.Description != strings.TrimSpace(k.Description) {
			t.Errorf("%s: option description %q, registry %q", m.FullMethod, m.Description, k.Description)
		}
		if want := "/kernels/" + k.ID + ":execute"; m.HTTPPath != want {
			t.Errorf("%s: REST route %q, want POST %s", m.FullMethod, m.HTTPPath, want)
		}
		// gokernels.kernels.graph.v1.GraphService for graph/...
		domain, _, _ := strings.Cut(k.ID, "/")
		svc := m.Desc.Parent().FullName()
		if want := "gokernels.kernels." + domain + ".v1." + strings.ToUpper(domain[:1]) + domain[1:] + "Service"; string(svc) != want {
			t.Errorf("kernel %s is served by %s, want %s", k.ID, svc, want)
		}
	}
	for id, m := range byID {
		t.Errorf("%s serves kernel %s, which the registry does not have", m.FullMethod, id)
	}

	routes, err := kernelrpc.Routes(reg)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != len(kernels) {
		t.Errorf("%d routes for %d kernels", len(routes), len(kernels))
	}
	methodsPerService := map[string]int{}
	for _, sd := range kernelrpc.Services(routes, nil) {
		methodsPerService[sd.ServiceName] += len(sd.Methods)
	}
	total := 0
	for _, n := range methodsPerService {
		total += n
	}
	if total != len(kernels) {
		t.Errorf("service descriptors carry %d methods for %d kernels", total, len(kernels))
	}
}
