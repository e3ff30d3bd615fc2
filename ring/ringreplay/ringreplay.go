// Package ringreplay checks a ring kernel's two replay properties in tests,
// through the real runtime: the replay law (a Batch input fed as its
// handler's Split messages to a JOURNAL ring, then Snapshot, equals the
// Batch output) and deterministic replay (the journal alone, copied as a
// crash would leave it, rebuilds byte-identical state).
package ringreplay

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring"
)

// Run feeds in to a fresh JOURNAL ring of kernel id as its handler's Split
// messages (one per data message, ts = the message index), takes a
// Snapshot, then replays the journal into a second runtime and fails t
// unless the two states are byte-identical. It returns the snapshot
// output and the events the data messages emitted, in order.
func Run(t testing.TB, reg *registry.Registry, id string, in proto.Message) (proto.Message, []ring.Event) {
	t.Helper()
	ctx := context.Background()
	k, ok := reg.Get(id)
	if !ok {
		t.Fatalf("%s is not registered", id)
	}
	h, ok := k.RingHandler()
	if !ok {
		t.Fatalf("%s has no ring handler", id)
	}
	cfg, msgs := h.Split(in)
	dir := t.TempDir()
	logger := slog.New(slog.DiscardHandler)
	rt, err := ring.New(reg, ring.Options{Dir: dir, IdleTimeout: -1, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(rt)
	r, err := rt.Create(ctx, "default", "r", id, ring.Config{Durability: ring.Journal}, cfg)
	if err != nil {
		t.Fatalf("%s: create: %v", id, err)
	}
	var events []ring.Event
	for i, m := range msgs {
		rep, err := r.Send(ctx, ring.Message{Kind: ring.KindData, ClientID: "feed", ClientSeq: uint64(i + 1), TS: int64(i), Payload: m})
		if err != nil || rep.Err != nil {
			t.Fatalf("%s: message %d: %v %v", id, i, err, rep.Err)
		}
		events = append(events, rep.Events...)
	}
	rep, err := r.Send(ctx, ring.Message{Kind: ring.KindSnapshot})
	if err != nil || rep.Err != nil {
		t.Fatalf("%s: snapshot: %v %v", id, err, rep.Err)
	}
	// Copy first: SnapshotNow writes a snapshot and may trim the journal.
	crashDir := t.TempDir()
	copyJournal(t, filepath.Join(dir, "tenants"), filepath.Join(crashDir, "tenants"))
	live, _, err := r.SnapshotNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rt2, err := ring.New(reg, ring.Options{Dir: crashDir, IdleTimeout: -1, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(rt2)
	r2, err := rt2.Get("default", "r")
	if err != nil {
		t.Fatal(err)
	}
	replayed, _, err := r2.SnapshotNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(live, replayed) {
		t.Fatalf("%s: journal replay gives different state:\nlive   %.300s\nreplay %.300s", id, live, replayed)
	}
	return rep.Output, events
}

func shutdown(rt *ring.Runtime) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = rt.Shutdown(ctx)
}

// copyJournal copies a data directory without its snapshots.
func copyJournal(t testing.TB, src, dst string) {
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
