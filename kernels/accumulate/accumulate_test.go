package accumulate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/kernels/accumulate"
	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring"
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
				cfg, msgs := h.Split(in)
				if len(msgs) < 2 {
					continue // a one-record input is no stream
				}
				checked++
				dir := t.TempDir()
				rt, err := ring.New(reg, ring.Options{Dir: dir, IdleTimeout: -1, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				r, err := rt.Create(ctx, "default", "r", sh.ID, ring.Config{Durability: ring.Journal}, cfg)
				if err != nil {
					t.Fatalf("%s: create: %v", c.Name, err)
				}
				for i, m := range msgs {
					rep, err := r.Send(ctx, ring.Message{Kind: ring.KindData, ClientID: "feed", ClientSeq: uint64(i + 1), TS: int64(i), Payload: m})
					if err != nil || rep.Err != nil {
						t.Fatalf("%s: message %d: %v %v", c.Name, i, err, rep.Err)
					}
				}
				rep, err := r.Send(ctx, ring.Message{Kind: ring.KindSnapshot})
				if err != nil || rep.Err != nil {
					t.Fatalf("%s: snapshot: %v %v", c.Name, err, rep.Err)
				}
				if !proto.Equal(want, rep.Output) {
					t.Fatalf("case %d %s: ring snapshot differs from the Batch output:\nbatch %.500s\nring  %.500s",
						ci, c.Name, prototext.Format(want), prototext.Format(rep.Output))
				}
				// Deterministic replay: the journal alone (copied as a crash
				// would leave it, before any snapshot) rebuilds the same bytes.
				crashDir := t.TempDir()
				copyJournal(t, filepath.Join(dir, "tenants"), filepath.Join(crashDir, "tenants"))
				live, _, err := r.SnapshotNow(ctx)
				if err != nil {
					t.Fatal(err)
				}
				rt2, err := ring.New(reg, ring.Options{Dir: crashDir, IdleTimeout: -1, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				r2, err := rt2.Get("default", "r")
				if err != nil {
					t.Fatal(err)
				}
				replayed, _, err := r2.SnapshotNow(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(live, replayed) {
					t.Fatalf("%s: journal replay gives different state:\nlive   %.300s\nreplay %.300s", c.Name, live, replayed)
				}
				shutdown(rt)
				shutdown(rt2)
			}
			if checked == 0 {
				t.Fatal("no fixture case ran")
			}
		})
	}
}

func shutdown(rt *ring.Runtime) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = rt.Shutdown(ctx)
}

// copyJournal copies a data directory without its snapshots.
func copyJournal(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		if strings.HasPrefix(info.Name(), "snap-") {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(f, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
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
