package registry

import (
	"strings"
	"unicode"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gokernels/gokernels/kernels/fold"
)

// RingTypes are the proto names of a Ring kernel's typed ring messages,
// which internal/cmd/kernelsvcgen generates in the kernel's proto package
// (ring_messages.proto) from its handler's fold.Messages:
//
//   - Request, <Kernel>RingRequest: oneof msg {data, configure, snapshot,
//     reset}, carried in RingRequest.typed_data;
//   - Reply, <Kernel>RingReply: oneof result {output, snapshot}, carried
//     in RingReply.typed_output;
//   - Event, <Kernel>RingEvent: oneof event, one field per event kind,
//     carried in RingEvent.typed_payload.
//
// <Kernel> is the input message's name without "Input" (and without a
// trailing "Ring": NetworkGenerationRingInput gives
// NetworkGenerationRingRequest).
type RingTypes struct {
	Request, Reply, Event protoreflect.FullName
}

// RingTypes names k's typed ring messages (whether or not k is a Ring
// kernel; the names exist only for Ring kernels with a handler).
func (k *Kernel) RingTypes() RingTypes {
	in := k.Input.Descriptor()
	stem := strings.TrimSuffix(strings.TrimSuffix(string(in.Name()), "Input"), "Ring")
	pkg := in.ParentFile().Package()
	return RingTypes{
		Request: pkg.Append(protoreflect.Name(stem + "RingRequest")),
		Reply:   pkg.Append(protoreflect.Name(stem + "RingReply")),
		Event:   pkg.Append(protoreflect.Name(stem + "RingEvent")),
	}
}

// RingMessages is the reply output and event kinds k's ring handler
// declares (fold.Messages; zero for a kernel without a ring handler or
// one that declares nothing).
func (k *Kernel) RingMessages() fold.Messages {
	k.ringMsgsOnce.Do(func() {
		if k.ring == nil {
			return
		}
		if d, ok := k.ring().(fold.Describer); ok {
			k.ringMsgs = d.RingMessages()
		}
	})
	return k.ringMsgs
}

// EventField is the <Kernel>RingEvent oneof field that carries events of
// the given kind: the kind in snake_case ("RapidMovementAlert" →
// "rapid_movement_alert", "cluster_merged" unchanged).
func EventField(kind string) protoreflect.Name {
	var b strings.Builder
	rs := []rune(kind)
	for i, r := range rs {
		switch {
		case unicode.IsUpper(r):
			if i > 0 && rs[i-1] != '_' && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		case r == '-' || r == ' ' || r == '.':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return protoreflect.Name(b.String())
}
