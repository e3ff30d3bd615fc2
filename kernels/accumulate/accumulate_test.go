package accumulate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/kernels/accumulate"
	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring/ringreplay"
	"github.com/gokernels/gokernels/server/jsoninput"
)

type fixture struct {
	Cases []struct {
		Name   string          `json:"name"`
		Input  json.RawMessage `json:"input"`
		Expect json.RawMessage `json:"expect"`
	} `json:"cases"`
}

func registryWithRings(t *testing.T) *registry.Registry {
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestReplayLaw feeds each fixture input of the nine kernels to a JOURNAL
// ring as data messages, then Snapshot, and compares with the kernel's
// Batch output on the same input; then it replays the ring's journal into
// a fresh ring (a copy of its directory without snapshots, as after a
// crash) and compares the two snapshots byte for byte.
func TestReplayLaw(t *testing.T) {
	reg := registryWithRings(t)
	ctx := context.Background()
	for _, sh := range accumulate.Shapes {
		t.Run(sh.ID, func(t *testing.T) {
			k, _ := reg.Get(sh.ID)
			h, ok := k.RingHandler()
			if !ok {
				t.Fatal("no ring handler")
			}
			var fx fixture
			raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fixtures", k.Prefix(), strings.TrimPrefix(sh.ID, k.Prefix()+"/")+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &fx); err != nil {
				t.Fatal(err)
			}
			checked := 0
			for ci, c := range fx.Cases {
				if checked == 3 {
					break
				}
				in := k.NewInput()
				if err := jsoninput.Decode(c.Input, in); err != nil {
					continue
				}
				want, err := k.Run(ctx, in)
				if err != nil {
					continue // an error case: nothing to replay
				}
				if _, msgs := h.Split(in); len(msgs) < 2 {
					continue // a one-record input is no stream
				}
				checked++
				// Through a JOURNAL ring, then the journal alone (copied as a
				// crash would leave it) must rebuild byte-identical state.
				got, _ := ringreplay.Run(t, reg, sh.ID, in)
				if !proto.Equal(want, got) {
					t.Fatalf("case %d %s: ring snapshot differs from the Batch output:\nbatch %.500s\nring  %.500s",
						ci, c.Name, prototext.Format(want), prototext.Format(got))
				}
			}
			if checked == 0 {
				t.Fatal("no fixture case ran")
			}
		})
	}
}

// TestMessagesAreChecked: parameters in data messages and data in
// Configure are refused, naming the field, and leave the state unchanged.
func TestMessagesAreChecked(t *testing.T) {
	reg := registryWithRings(t)
	k, _ := reg.Get("risk/portfolio-aggregation")
	h, _ := k.RingHandler()
	in := k.NewInput()
	if err := jsoninput.Decode([]byte(`{"positions": [1, 2], "volatilities": [0.1, 0.2], "correlation": [[1, 0], [0, 1]]}`), in); err != nil {
		t.Fatal(err)
	}
	if err := h.Configure(context.Background(), in); err == nil || !strings.Contains(err.Error(), "positions") {
		t.Fatalf("data in Configure: %v", err)
	}
	before, _ := h.MarshalState()
	bad := k.NewInput()
	_ = jsoninput.Decode([]byte(`{"positions": [1], "confidence_level": 0.9}`), bad)
	if err := h.Apply(nil, bad); err == nil || !strings.Contains(err.Error(), "confidence_level") {
		t.Fatalf("parameter in a data message: %v", err)
	}
	after, _ := h.MarshalState()
	if !bytes.Equal(before, after) {
		t.Fatal("a refused message changed the state")
	}
}
