package ring

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkJournalCommit is one group commit (64 records appended, then
// made durable) on this machine's disk: the baseline is what the journal
// did before (append to a growing file, fsync: every commit also commits
// the new size and mtime through the filesystem journal), against a
// preallocated, zero-filled segment with fdatasync (data only). Run both
// in one invocation and compare: the ratio of the p50/p99 metrics is the
// figure, not the absolute times (the disk is shared).
//
//	go test -run '^$' -bench JournalCommit -benchtime 2000x ./ring/
func BenchmarkJournalCommit(b *testing.B) {
	var batch []byte
	for i := range 64 {
		batch = appendEntry(batch, &entry{Kind: KindData, Seq: uint64(i + 1), TS: 1, Time: time.Now().UnixNano(),
			ClientID: "bench", ClientSeq: uint64(i + 1), Payload: []byte("\n\x04\x08\x01\x10\x01")})
	}
	run := func(b *testing.B, commit func() error) {
		lat := make([]time.Duration, b.N)
		b.ResetTimer()
		for i := range b.N {
			t0 := time.Now()
			if err := commit(); err != nil {
				b.Fatal(err)
			}
			lat[i] = time.Since(t0)
		}
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50_us")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_us")
	}
	b.Run("baseline=append+fsync", func(b *testing.B) {
		f, err := os.OpenFile(filepath.Join(b.TempDir(), "wal.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		run(b, func() error {
			if _, err := f.Write(batch); err != nil {
				return err
			}
			return f.Sync()
		})
	})
	b.Run("preallocated+fdatasync", func(b *testing.B) {
		j, err := openJournal(b.TempDir(), 1, int64(b.N+1)*int64(len(batch)), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer j.close()
		run(b, func() error {
			if err := j.append(batch); err != nil {
				return err
			}
			return j.sync()
		})
	})
}
