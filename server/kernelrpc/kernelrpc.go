// Package kernelrpc serves the typed per-domain kernel services
// (gokernels.kernels.graph.v1.GraphService/PageRank, …) without a line of
// per-kernel code: it finds every RPC carrying the gokernels.v1.kernel method
// option in the linked proto descriptors, matches it to the registry kernel
// of that id, and builds grpc.ServiceDescs whose handlers decode the
// kernel's input message and hand it to one function, the same execution
// path as KernelService.Execute. Registered on the *grpc.Server like any
// generated service, the typed RPCs pass through its whole interceptor
// chain. The service protos are generated from the registry
// (internal/cmd/kernelsvcgen), so a new kernel needs no change here.
package kernelrpc

import (
	"context"
	"fmt"
	"sort"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Method is one kernel's typed RPC, as declared in the protos.
type Method struct {
	// KernelID is the gokernels.v1.kernel option's id, e.g. "graph/pagerank".
	KernelID string
	Modes    []string
	// Description is the option's description (the registry's).
	Description string
	Desc        protoreflect.MethodDescriptor
	// FullMethod is the gRPC method name,
	// "/gokernels.kernels.graph.v1.GraphService/PageRank".
	FullMethod string
	// HTTPPath is the REST route (POST), "/kernels/graph/pagerank:execute".
	HTTPPath string
}

// Methods lists every RPC with the gokernels.v1.kernel option in the protos
// linked into this binary, sorted by kernel id.
func Methods() []Method {
	var out []Method
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		svcs := fd.Services()
		for i := range svcs.Len() {
			sd := svcs.Get(i)
			ms := sd.Methods()
			for j := range ms.Len() {
				md := ms.Get(j)
				opts, ok := md.Options().(*descriptorpb.MethodOptions)
				if !ok || !proto.HasExtension(opts, gokernelsv1.E_Kernel) {
					continue
				}
				km := proto.GetExtension(opts, gokernelsv1.E_Kernel).(*gokernelsv1.KernelMethod)
				m := Method{
					KernelID: km.GetId(), Modes: km.GetModes(), Description: km.GetDescription(),
					Desc: md, FullMethod: "/" + string(sd.FullName()) + "/" + string(md.Name()),
				}
				if rule, ok := proto.GetExtension(opts, annotations.E_Http).(*annotations.HttpRule); ok {
					m.HTTPPath = rule.GetPost()
				}
				out = append(out, m)
			}
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].KernelID < out[j].KernelID })
	return out
}

// Exec runs kernel k on in, a validated message of k's input type.
type Exec func(ctx context.Context, k *registry.Kernel, in proto.Message) (proto.Message, error)

// Route is a typed RPC served for a registry kernel.
type Route struct {
	Method
	Kernel *registry.Kernel
}

// Routes matches the typed RPCs to reg's kernels. An RPC whose kernel is not
// in reg is left out (a server built with part of the catalog); one whose
// messages are not the kernel's is an error (stale generated protos).
func Routes(reg *registry.Registry) ([]Route, error) {
	var out []Route
	for _, m := range Methods() {
		k, ok := reg.Get(m.KernelID)
		if !ok {
			continue
		}
		if m.Desc.Input().FullName() != k.Input.Descriptor().FullName() ||
			m.Desc.Output().FullName() != k.Output.Descriptor().FullName() {
			return nil, fmt.Errorf("%s: takes %s and returns %s, but kernel %s takes %s and returns %s (run make generate)",
				m.FullMethod, m.Desc.Input().FullName(), m.Desc.Output().FullName(),
				k.ID, k.Input.Descriptor().FullName(), k.Output.Descriptor().FullName())
		}
		out = append(out, Route{Method: m, Kernel: k})
	}
	return out, nil
}

// Services builds one grpc.ServiceDesc per service of routes; every handler
// decodes the kernel's input message and calls exec through the server's
// interceptor chain, as a generated handler would.
func Services(routes []Route, exec Exec) []*grpc.ServiceDesc {
	byName := map[string]*grpc.ServiceDesc{}
	var out []*grpc.ServiceDesc
	for _, r := range routes {
		svc := r.Desc.Parent().(protoreflect.ServiceDescriptor)
		sd := byName[string(svc.FullName())]
		if sd == nil {
			sd = &grpc.ServiceDesc{
				ServiceName: string(svc.FullName()),
				HandlerType: (*any)(nil),
				Metadata:    svc.ParentFile().Path(),
			}
			byName[sd.ServiceName] = sd
			out = append(out, sd)
		}
		sd.Methods = append(sd.Methods, grpc.MethodDesc{
			MethodName: string(r.Desc.Name()),
			Handler:    handler(r.Kernel, r.FullMethod, exec),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ServiceName < out[j].ServiceName })
	return out
}

func handler(k *registry.Kernel, fullMethod string, exec Exec) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		in := k.NewInput()
		if err := dec(in); err != nil {
			return nil, err
		}
		if interceptor == nil {
			return exec(ctx, k, in)
		}
		info := &grpc.UnaryServerInfo{Server: srv, FullMethod: fullMethod}
		return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
			return exec(ctx, k, req.(proto.Message))
		})
	}
}
