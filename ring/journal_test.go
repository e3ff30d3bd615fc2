package ring

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
)

// TestPreallocatedSegmentRecovery: a segment is preallocated (zeros after
// its last record, inside the file's size), the zero tail ends the replay,
// and reopening after a crash that left a torn record followed by a stale
// but intact record cuts both away: the region after the last intact
// record is zeros again, so no old bytes can ever be read as a record
// that follows new ones.
func TestPreallocatedSegmentRecovery(t *testing.T) {
	dir := t.TempDir()
	rt := newRuntime(t, dir, nil)
	r, err := rt.Create(context.Background(), "acme", "wal", sumID, Config{Durability: Journal}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sendAll(t, r, 1, 10)
	crash(r)

	segs, err := segments(r.dir)
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments %v, %v", segs, err)
	}
	path := filepath.Join(r.dir, segmentName(segs[0]))
	var seqs []uint64
	end, err := readSegment(path, func(e entry) error { seqs = append(seqs, e.Seq); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 10 || seqs[9] != 10 {
		t.Fatalf("records read %v, want seqs 1..10", seqs)
	}
	st, _ := os.Stat(path)
	if st.Size() < end+minPrealloc {
		t.Fatalf("segment size %d with records up to %d: not preallocated", st.Size(), end)
	}
	raw, _ := os.ReadFile(path)
	if !allZero(raw[end:]) {
		t.Fatal("the preallocated tail is not zeros")
	}

	// A torn record at the end, then an intact record (seq 11, value 1000)
	// beyond the gap: a page written back before the one before it.
	payload, _ := proto.Marshal(data(1000))
	stale := appendEntry(nil, &entry{Kind: KindData, Seq: 11, TS: 11, ClientID: "c", ClientSeq: 11, Payload: payload})
	f, _ := os.OpenFile(path, os.O_WRONLY, 0)
	f.WriteAt([]byte{60, 0, 0, 0, 9, 9, 9, 9, 1, 2}, end)
	f.WriteAt(stale, end+10)
	f.Close()
	if got, _ := readSegment(path, nil); got != end {
		t.Fatalf("replay ends at %d, want %d (at the torn record)", got, end)
	}

	j, err := openJournal(r.dir, segs[0], minPrealloc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if j.size != end || j.alloc != end+minPrealloc {
		t.Fatalf("reopened at %d (allocated %d), want %d (%d)", j.size, j.alloc, end, end+minPrealloc)
	}
	j.close()
	raw, _ = os.ReadFile(path)
	if int64(len(raw)) != end+minPrealloc || !allZero(raw[end:]) {
		t.Fatalf("after reopening: %d bytes, tail zero %v; the torn and stale records must be gone", len(raw), allZero(raw[end:]))
	}

	// End to end: recovery has the 10, the stale one never comes back.
	rt2 := newRuntime(t, dir, nil)
	r2, err := rt2.Get("acme", "wal")
	if err != nil {
		t.Fatal(err)
	}
	if out := snapshotOut(t, r2); out.GetCount() != 10 || out.GetScale() != 10 {
		t.Fatalf("recovered %v, want 10 messages summing to 10", out)
	}
	sendAll(t, r2, 11, 13)
	r3 := restart(t, r2)
	if out := snapshotOut(t, r3); out.GetCount() != 13 || out.GetScale() != 13 {
		t.Fatalf("after appending and restarting %v, want 13 messages summing to 13", out)
	}
}

func allZero(b []byte) bool { return len(bytes.Trim(b, "\x00")) == 0 }

// TestPreallocSize: a new segment is preallocated for a quarter more than
// the previous one held, in 64 KiB steps, within bounds.
func TestPreallocSize(t *testing.T) {
	for _, c := range []struct{ prev, want int64 }{
		{0, minPrealloc}, {1000, minPrealloc}, {100 << 10, 128 << 10}, {530_000, 704 << 10}, {1 << 30, maxPrealloc},
	} {
		if got := preallocFor(c.prev); got != c.want {
			t.Errorf("preallocFor(%d) = %d, want %d", c.prev, got, c.want)
		}
	}
}

// TestRotationUsesSpare: after a periodic snapshot the ring appends to a
// segment that was zero-filled in the background (preallocated, so its
// size is ahead of its records), old segments are pruned, and stopping
// the ring leaves no spare behind.
func TestRotationUsesSpare(t *testing.T) {
	dir := t.TempDir()
	rt := newRuntime(t, dir, func(o *Options) { o.SnapshotEvery = 20 })
	r, err := rt.Create(context.Background(), "acme", "wal", sumID, Config{Durability: Journal}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 65; i++ {
		sendAll(t, r, i, i)
		if i%20 == 0 {
			// Give the spare time to be ready for the next rotation.
			time.Sleep(50 * time.Millisecond)
		}
	}
	var j *journal
	if err := r.do(context.Background(), func() error { j = r.j; return nil }); err != nil {
		t.Fatal(err)
	}
	if j.first != 61 || j.size == 0 || j.alloc < j.size+minPrealloc/2 {
		t.Fatalf("current segment first %d, size %d, allocated %d: want seq 61 on, preallocated", j.first, j.size, j.alloc)
	}
	segs, _ := segments(r.dir)
	if len(segs) > 3 {
		t.Fatalf("segments %v: the ones before the older kept snapshot were not pruned", segs)
	}
	if err := rt.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(r.dir, sparePattern)); len(left) != 0 {
		t.Fatalf("spares left after shutdown: %v", left)
	}
	rt2 := newRuntime(t, dir, nil)
	r2, err := rt2.Get("acme", "wal")
	if err != nil {
		t.Fatal(err)
	}
	if out := snapshotOut(t, r2); out.GetCount() != 65 {
		t.Fatalf("recovered %d messages, want 65", out.GetCount())
	}
}
