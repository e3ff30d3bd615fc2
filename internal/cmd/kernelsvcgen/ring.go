package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/gokernels/gokernels/kernels/registry"
)

// ringFile is the per-domain file of the Ring kernels' typed messages.
const ringFile = "ring_messages.proto"

// isRing reports whether k is served by the ring runtime (Ring mode and a
// handler).
func isRing(k *registry.Kernel) bool {
	if !k.HasMode(registry.Ring) {
		return false
	}
	_, ok := k.RingHandler()
	return ok
}

// renderRing writes the domain's ring_messages.proto, or nil when the
// domain has no Ring kernels.
func (d *domain) renderRing(seg string) ([]byte, error) {
	var rings []*registry.Kernel
	for _, k := range d.kernels {
		if isRing(k) {
			rings = append(rings, k)
		}
	}
	if len(rings) == 0 {
		return nil, nil
	}
	path := "gokernels/kernels/" + seg + "/v1/" + ringFile
	imports := map[string]bool{"gokernels/v1/ring.proto": true}
	// ref names a message from this file: bare in the same package, full
	// otherwise; its file is imported.
	ref := func(m protoreflect.MessageDescriptor) string {
		if f := m.ParentFile(); f.Path() != path {
			imports[f.Path()] = true
		}
		if m.ParentFile().Package() == d.pkg {
			return string(m.FullName())[len(d.pkg)+1:]
		}
		return string(m.FullName())
	}

	var body bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&body, format, args...) }
	comment := func(indent, text string) {
		for _, para := range strings.Split(text, "\n") {
			for _, line := range wrap(para, 78-len(indent)) {
				w("%s// %s\n", indent, line)
			}
		}
	}
	for i, k := range rings {
		rt := k.RingTypes()
		for _, name := range []protoreflect.FullName{rt.Request, rt.Reply, rt.Event} {
			if name.Parent() != d.pkg {
				return nil, fmt.Errorf("kernel %s: ring message %s is not in package %s", k.ID, name, d.pkg)
			}
			// A hand-written message of the same name would collide.
			if desc, err := protoregistry.GlobalFiles.FindDescriptorByName(name); err == nil && desc.ParentFile().Path() != path {
				return nil, fmt.Errorf("kernel %s: %s is already declared in %s", k.ID, name, desc.ParentFile().Path())
			}
		}
		msgs := k.RingMessages()
		in, out := ref(k.Input.Descriptor()), ref(k.Output.Descriptor())
		if i > 0 {
			w("\n")
		}

		// Request.
		comment("", fmt.Sprintf("%s is one message to a ring of %s, carried as an Any in "+
			"gokernels.v1.RingRequest.typed_data (the ring's reply then carries a %s in typed_output). "+
			"The control fields of RingRequest (client_id, client_seq, ts) stay on the envelope.",
			rt.Request.Name(), k.ID, rt.Reply.Name()))
		w("message %s {\n  oneof msg {\n", rt.Request.Name())
		comment("    ", fmt.Sprintf("A data message: a %s carrying a slice of the data (its data fields only); "+
			"data messages carry non-decreasing ts (else OUT_OF_RANGE, state unchanged).", in))
		w("    %s data = 1;\n", in)
		comment("    ", fmt.Sprintf("Configure: a %s with its parameter fields only; accepted before the first "+
			"data message or after Reset.", in))
		w("    %s configure = 2;\n", in)
		comment("    ", fmt.Sprintf("Snapshot: reply with the full derived result (%s.snapshot), equal to the "+
			"Batch output of the data so far (the replay law).", rt.Reply.Name()))
		w("    gokernels.v1.SnapshotControl snapshot = 3;\n")
		w("    // Reset: back to the empty, unconfigured state.\n")
		w("    gokernels.v1.ResetControl reset = 4;\n")
		w("  }\n}\n\n")

		// Reply.
		comment("", fmt.Sprintf("%s is the typed reply to a %s, carried as an Any in "+
			"gokernels.v1.RingReply.typed_output. result is unset for Configure and Reset, and for data "+
			"messages whose reply has no output.", rt.Reply.Name(), rt.Request.Name()))
		w("message %s {\n  oneof result {\n", rt.Reply.Name())
		replyType := "google.protobuf.Empty"
		if msgs.Reply != nil {
			replyType = ref(msgs.Reply.ProtoReflect().Descriptor())
			doc := msgs.ReplyDoc
			if doc == "" {
				doc = "What the data message did."
			}
			comment("    ", "A data message's reply output. "+doc)
		} else {
			imports["google/protobuf/empty.proto"] = true
			w("    // Data messages of this kernel reply with no output (never set).\n")
		}
		w("    %s output = 1;\n", replyType)
		comment("    ", fmt.Sprintf("Snapshot: the %s, equal to the Batch output.", out))
		w("    %s snapshot = 2;\n", out)
		w("  }\n}\n\n")

		// Event.
		if len(msgs.Events) == 0 {
			comment("", fmt.Sprintf("%s would carry the events of a ring of %s in "+
				"gokernels.v1.RingEvent.typed_payload; this kernel emits none besides \"applied\" "+
				"(which has no payload), so it has no fields.", rt.Event.Name(), k.ID))
			w("message %s {}\n", rt.Event.Name())
			continue
		}
		comment("", fmt.Sprintf("%s is one event of a ring of %s, carried as an Any in "+
			"gokernels.v1.RingEvent.typed_payload when the watcher or session asked for typed_events "+
			"(RingEvent.kind names the field). A message's events come before its reply, in the order "+
			"the handler emitted them; the \"applied\" event that follows them has no payload.",
			rt.Event.Name(), k.ID))
		w("message %s {\n  oneof event {\n", rt.Event.Name())
		seen := map[protoreflect.Name]string{}
		for j, ev := range msgs.Events {
			field := registry.EventField(ev.Kind)
			if prev, dup := seen[field]; dup || field == "" {
				return nil, fmt.Errorf("kernel %s: event kinds %q and %q give the same field %q", k.ID, prev, ev.Kind, field)
			}
			seen[field] = ev.Kind
			if ev.Message == nil {
				return nil, fmt.Errorf("kernel %s: event kind %q declares no message", k.ID, ev.Kind)
			}
			doc := ev.Doc
			if doc == "" {
				return nil, fmt.Errorf("kernel %s: event kind %q has no Doc (say when it fires)", k.ID, ev.Kind)
			}
			comment("    ", fmt.Sprintf("kind %q: %s", ev.Kind, doc))
			w("    %s %s = %d;\n", ref(ev.Message.ProtoReflect().Descriptor()), field, j+1)
		}
		w("  }\n}\n")
	}

	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("// Code generated by internal/cmd/kernelsvcgen from the kernel registry. DO NOT EDIT.\n")
	p("// Run `make generate` after adding a ring kernel or changing a handler's fold.Messages.\n\n")
	p("syntax = \"proto3\";\n\n")
	p("// The %s Ring kernels' typed ring messages: per kernel a request, a reply\n", seg)
	p("// and an event message, each a oneof, carried as Any by gokernels.v1.RingService\n")
	p("// (RingRequest.typed_data, RingReply.typed_output, RingEvent.typed_payload).\n")
	p("// gokernels.v1.Ring and KernelInfo name them (ring_request_type, ...).\n")
	p("package %s;\n\n", d.pkg)
	var imps []string
	for imp := range imports {
		imps = append(imps, imp)
	}
	sort.Strings(imps)
	for _, imp := range imps {
		p("import %q;\n", imp)
	}
	p("\noption go_package = %q;\n\n", d.goPackage)
	b.Write(body.Bytes())
	return b.Bytes(), nil
}
