package gateway

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
)

// TestAppendMetadataSameAsJSONPb: the hand-written metadata JSON is what the
// gateway's JSONPb marshaler writes (whitespace aside), and it refuses what
// it would not write the same way. A field added to ExecuteMetadata fails
// here until appendMetadata writes it.
func TestAppendMetadataSameAsJSONPb(t *testing.T) {
	jsonpb := &runtime.JSONPb{MarshalOptions: protojson.MarshalOptions{UseProtoNames: true, EmitDefaultValues: true}}
	if n := (&gokernelsv1.ExecuteMetadata{}).ProtoReflect().Descriptor().Fields().Len(); n != 3 {
		t.Fatalf("ExecuteMetadata has %d fields; appendMetadata writes 3", n)
	}
	for _, md := range []*gokernelsv1.ExecuteMetadata{
		{}, {DurationUs: 17, QueueUs: 3, Backend: "CPU"}, {DurationUs: math.MaxUint32, QueueUs: math.MaxUint32, Backend: "CUDA"},
		{Backend: "gpu_0-x"},
	} {
		want, err := jsonpb.Marshal(md)
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, want); err != nil {
			t.Fatal(err)
		}
		got, ok := appendMetadata(nil, md)
		if !ok || string(got) != compact.String() {
			t.Errorf("ok=%v\n got %s\nwant %s", ok, got, compact.String())
		}
	}
	for _, md := range []*gokernelsv1.ExecuteMetadata{nil, {Backend: `a"b`}, {Backend: "é"}} {
		if b, ok := appendMetadata(nil, md); ok {
			t.Errorf("%v written by hand as %s", md, b)
		}
	}
}
