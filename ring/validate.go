package ring

import (
	"errors"
	"strings"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/kernels/registry"
)

// validatePayload runs the input message's protovalidate rules. Ring
// messages are slices of a Batch input: a Configure carries parameters only
// and a data message records only, so the rules that demand presence
// (required fields, minimum counts, a count left at zero) do not apply to
// them; the handler checks the whole at Snapshot, where the kernel's Batch
// rules run on the accumulated input.
func validatePayload(k *registry.Kernel, kind Kind, msg proto.Message) error {
	err := k.Validate(msg)
	if err == nil {
		return nil
	}
	var ve *protovalidate.ValidationError
	if !errors.As(err, &ve) {
		return errorf(codes.InvalidArgument, "", "payload: %v", err)
	}
	var kept []string
	for _, v := range ve.Violations {
		rule := v.Proto.GetRuleId()
		if (kind == KindConfigure || kind == KindData) && (rule == "required" || strings.HasSuffix(rule, ".min_items") ||
			strings.HasSuffix(rule, ".gte") && isZero(v)) {
			continue
		}
		kept = append(kept, protovalidate.FieldPathString(v.Proto.GetField())+": "+v.Proto.GetMessage())
	}
	if len(kept) == 0 {
		return nil
	}
	return errorf(codes.InvalidArgument, "", "payload: %s", strings.Join(kept, "; "))
}

// isZero reports a violation on a field left at its zero value (a count
// such as n_exposures that a parameters-only message leaves unset).
func isZero(v *protovalidate.Violation) bool {
	return v.FieldValue.IsValid() && v.FieldValue.Equal(v.FieldDescriptor.Default())
}
