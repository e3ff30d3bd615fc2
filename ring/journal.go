package ring

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The journal is command sourcing: each accepted message is appended as a
// record before it is applied, and recovery re-applies the records after
// the latest snapshot. Segments are named wal-<first seq>.log and start
// afresh at every snapshot, so a snapshot at seq S makes every segment
// starting at or below the older kept snapshot unnecessary.
//
// Record framing: uint32 LE body length | uint32 LE CRC-32C of body | body.
// A torn or corrupt tail (a crash mid-write) ends the replay there and is
// truncated away when the segment is reopened for appending.

// Kind is what a message asks of the ring.
type Kind uint8

// Message kinds. Data, Configure and Reset change state and are journaled;
// Snapshot reads the derived result.
const (
	KindData Kind = iota + 1
	KindConfigure
	KindReset
	KindSnapshot
	kindQuarantine // journal only: the message with this seq panicked
)

func (k Kind) String() string {
	switch k {
	case KindData:
		return "data"
	case KindConfigure:
		return "configure"
	case KindReset:
		return "reset"
	case KindSnapshot:
		return "snapshot"
	case kindQuarantine:
		return "quarantine"
	}
	return "unknown"
}

// entry is one journal record.
type entry struct {
	Kind      Kind
	Seq       uint64
	TS        int64
	Time      int64 // acceptance time, Unix nanoseconds
	ClientID  string
	ClientSeq uint64
	Payload   []byte // the kernel input message, proto binary
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func appendEntry(buf []byte, e *entry) []byte {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0, 0, 0, 0, 0)
	buf = append(buf, byte(e.Kind))
	buf = binary.AppendUvarint(buf, e.Seq)
	buf = binary.AppendVarint(buf, e.TS)
	buf = binary.AppendVarint(buf, e.Time)
	buf = binary.AppendUvarint(buf, uint64(len(e.ClientID)))
	buf = append(buf, e.ClientID...)
	buf = binary.AppendUvarint(buf, e.ClientSeq)
	buf = binary.AppendUvarint(buf, uint64(len(e.Payload)))
	buf = append(buf, e.Payload...)
	body := buf[start+8:]
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(buf[start+4:], crc32.Checksum(body, castagnoli))
	return buf
}

var (
	errCorrupt = errors.New("corrupt journal record")
	errNotOpen = errors.New("no journal segment is open")
)

func decodeEntry(body []byte) (entry, error) {
	var e entry
	if len(body) < 1 {
		return e, errCorrupt
	}
	e.Kind = Kind(body[0])
	b := body[1:]
	var n int
	if e.Seq, n = binary.Uvarint(b); n <= 0 {
		return e, errCorrupt
	}
	b = b[n:]
	if e.TS, n = binary.Varint(b); n <= 0 {
		return e, errCorrupt
	}
	b = b[n:]
	if e.Time, n = binary.Varint(b); n <= 0 {
		return e, errCorrupt
	}
	b = b[n:]
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return e, errCorrupt
	}
	e.ClientID = string(b[n : n+int(l)])
	b = b[n+int(l):]
	if e.ClientSeq, n = binary.Uvarint(b); n <= 0 {
		return e, errCorrupt
	}
	b = b[n:]
	if l, n = binary.Uvarint(b); n <= 0 || uint64(len(b)-n) != l {
		return e, errCorrupt
	}
	e.Payload = slices.Clone(b[n:])
	return e, nil
}

// journal appends to the current segment of one ring's directory.
//
// Segments are preallocated: a new one is zero-filled ahead of its records
// and made durable once, so that an append overwrites blocks that already
// exist inside the file's size, and the per-batch sync (fdatasync) has no
// metadata to commit (no ext4 journal commit, which is shared with every
// other writer on the filesystem and is where the fsync tail came from).
// The zero tail is not a record: a zero header (length 0) ends the replay,
// like a torn record does. A segment that outgrows its preallocation just
// grows; fdatasync then also commits the new size.
type journal struct {
	dir   string
	first uint64 // the segment's first seq (its name)
	f     segFile
	size  int64 // logical end: where the next record goes
	alloc int64 // the file's size (zeros from size to alloc)
	buf   []byte
	wrap  func(segFile) segFile // fault injection (tests); nil = none
	// broken: a write or sync failed. The segment is never written again
	// (its page cache state is unknown); a Restore rotates away from it.
	broken bool
	// next is the following segment, zero-filled in the background so that
	// a rotation is a rename, not a write of the whole preallocation.
	next *spare
}

// spare is a zero-filled, synced file waiting to become the next segment.
type spare struct {
	done chan struct{}
	f    *os.File
	path string
	size int64
	err  error
}

const sparePattern = ".wal-spare-*.tmp"

func prepareSpare(dir string, size int64) *spare {
	s := &spare{done: make(chan struct{}), size: size}
	go func() {
		defer close(s.done)
		f, err := os.CreateTemp(dir, sparePattern)
		if err != nil {
			s.err = err
			return
		}
		if err = zeroFill(f, 0, size); err == nil {
			err = f.Sync()
		}
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			s.err = err
			return
		}
		s.f, s.path = f, f.Name()
	}()
	return s
}

// ready reports, without waiting, whether the spare can be used.
func (s *spare) ready() bool {
	select {
	case <-s.done:
		return s.err == nil
	default:
		return false
	}
}

// discard waits for the spare and deletes it.
func (s *spare) discard() {
	<-s.done
	if s.f != nil {
		s.f.Close()
		os.Remove(s.path)
		s.f = nil
	}
}

// removeSpares deletes spares a crash left behind.
func removeSpares(dir string) {
	names, _ := filepath.Glob(filepath.Join(dir, sparePattern))
	for _, n := range names {
		os.Remove(n)
	}
}

// segFile is what the journal does to a segment once it is open: every
// failure of these fails the ring. Tests wrap it to inject faults.
type segFile interface {
	WriteAt(p []byte, off int64) (int, error)
	// Sync makes every written byte durable (fdatasync where the platform
	// has it).
	Sync() error
	Close() error
}

type osSegment struct{ *os.File }

// hookedSegment runs Options.JournalFault before each write and fsync.
type hookedSegment struct {
	segFile
	fault func(op string) error
}

func (h hookedSegment) WriteAt(p []byte, off int64) (int, error) {
	if err := h.fault("write"); err != nil {
		return 0, err
	}
	return h.segFile.WriteAt(p, off)
}

func (h hookedSegment) Sync() error {
	if err := h.fault("sync"); err != nil {
		return err
	}
	return h.segFile.Sync()
}

func (s osSegment) Sync() error { return datasync(s.File) }

// Preallocation bounds: a new segment gets about what the previous one
// held (a segment spans SnapshotEvery messages), within these.
const (
	minPrealloc     = 64 << 10
	initialPrealloc = 256 << 10
	maxPrealloc     = 64 << 20
)

func preallocFor(prev int64) int64 {
	n := prev + prev/4
	n = (n + minPrealloc - 1) / minPrealloc * minPrealloc
	return min(max(n, minPrealloc), maxPrealloc)
}

func segmentName(first uint64) string { return fmt.Sprintf("wal-%020d.log", first) }

// segments lists the ring's segments by first seq, ascending.
func segments(dir string) ([]uint64, error) {
	names, err := filepath.Glob(filepath.Join(dir, "wal-*.log"))
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, n := range names {
		s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(n), "wal-"), ".log")
		if v, err := strconv.ParseUint(s, 10, 64); err == nil {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil
}

// readSegment calls fn for every intact record of one segment, in order,
// and returns where its intact part ends: at the first zero header (the
// preallocated tail), torn or corrupt record, or the end of the file.
func readSegment(path string, fn func(entry) error) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	var off int64
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return off, nil
		}
		n := binary.LittleEndian.Uint32(hdr[:4])
		// A record has at least a kind byte, so length 0 is never one: it
		// is the zero-filled tail (CRC-32C of nothing is 0 too, so the CRC
		// alone would not tell).
		if n == 0 || n > 1<<30 {
			return off, nil
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return off, nil
		}
		if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
			return off, nil
		}
		e, err := decodeEntry(body)
		if err != nil {
			return off, nil
		}
		off += 8 + int64(n)
		if fn != nil {
			if err := fn(e); err != nil {
				return off, err
			}
		}
	}
}

// replay calls fn for every intact record with seq > after (and every
// quarantine record), in order. A bad record ends its segment (a torn
// tail); the returned offsets say where each segment's intact part ends.
func replay(dir string, after uint64, fn func(entry) error) (map[uint64]int64, error) {
	segs, err := segments(dir)
	if err != nil {
		return nil, err
	}
	good := map[uint64]int64{}
	for _, first := range segs {
		off, err := readSegment(filepath.Join(dir, segmentName(first)), func(e entry) error {
			if e.Seq > after || e.Kind == kindQuarantine {
				return fn(e)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		good[first] = off
	}
	return good, nil
}

// openJournal opens (or creates) the segment starting at first for
// appending after its last intact record. Whatever follows that record (a
// torn tail after a crash, stale preallocation) is cut off and replaced by
// zeros, so no old bytes can ever be read as a record after new ones.
func openJournal(dir string, first uint64, prealloc int64, wrap func(segFile) segFile) (*journal, error) {
	path := filepath.Join(dir, segmentName(first))
	_, statErr := os.Lstat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*journal, error) {
		f.Close()
		if created {
			// No segment name may be left that the records go past: the
			// caller keeps appending to the previous segment.
			os.Remove(path)
		}
		return nil, err
	}
	size, err := readSegment(path, nil)
	if err != nil {
		return fail(err)
	}
	if err := f.Truncate(size); err != nil {
		return fail(err)
	}
	if err := zeroFill(f, size, size+prealloc); err != nil {
		return fail(err)
	}
	// A full fsync: the new size and blocks are metadata, committed once
	// here instead of with every append.
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		return fail(err)
	}
	var sf segFile = osSegment{f}
	if wrap != nil {
		sf = wrap(sf)
	}
	return &journal{dir: dir, first: first, f: sf, size: size, alloc: size + prealloc, wrap: wrap}, nil
}

var zeros [64 << 10]byte

// zeroFill writes zeros over [from, to): real blocks, not a hole or an
// unwritten extent (fallocate), whose first write would again be a
// metadata change (extent conversion) to commit.
func zeroFill(f *os.File, from, to int64) error {
	for off := from; off < to; {
		n := min(int64(len(zeros)), to-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// add buffers a record; write appends everything buffered (the group
// commit: one write for every message taken from the mailbox at once).
func (j *journal) add(e *entry) { j.buf = appendEntry(j.buf, e) }

// append writes data at the logical end. Only one goroutine appends at a
// time: the syncer while the ring runs, the ring goroutine after barrier.
func (j *journal) append(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	if j.f == nil {
		return errNotOpen
	}
	n, err := j.f.WriteAt(data, j.size)
	j.size += int64(n)
	if j.size > j.alloc {
		j.alloc = j.size
	}
	return err
}

// sync makes everything appended durable.
func (j *journal) sync() error {
	if j.f == nil {
		return errNotOpen
	}
	return j.f.Sync()
}

// write appends the buffered records (no sync).
func (j *journal) write() error {
	err := j.append(j.buf)
	j.buf = j.buf[:0]
	return err
}

func (j *journal) close() error {
	if j == nil {
		return nil
	}
	if j.next != nil {
		j.next.discard()
		j.next = nil
	}
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// rotate starts the segment at first and closes this one: by renaming the
// spare prepared in the background when it is ready (one directory sync on
// the caller's path), else by creating it with a small preallocation. If
// the new one cannot be opened the current one stays in use (replay skips
// what the snapshot covers), so a full disk fails the snapshot, not the
// ring. Rotating to the current segment (a second checkpoint with no
// message in between) keeps it: its records are all covered by the new
// snapshot.
func (j *journal) rotate(first uint64) (*journal, error) {
	if first == j.first && !j.broken {
		return j, nil
	}
	if first == j.first {
		if err := j.close(); err != nil {
			return nil, err
		}
	}
	nj, err := j.takeSpare(first)
	if nj == nil && err == nil {
		nj, err = openJournal(j.dir, first, minPrealloc, j.wrap)
	}
	if err != nil {
		if j.f == nil {
			return nil, err
		}
		return j, err
	}
	nj.next = prepareSpare(j.dir, preallocFor(j.size))
	_ = j.close() // everything in it is synced; a close error changes nothing
	return nj, nil
}

// takeSpare makes the ready spare the segment at first; nil, nil when there
// is none ready (or the name is taken).
func (j *journal) takeSpare(first uint64) (*journal, error) {
	s := j.next
	if s == nil || !s.ready() {
		return nil, nil
	}
	path := filepath.Join(j.dir, segmentName(first))
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	j.next = nil
	if err := os.Rename(s.path, path); err != nil {
		s.discard()
		return nil, nil
	}
	// The new name must be durable before a record in it is acknowledged.
	if err := syncDir(j.dir); err != nil {
		s.f.Close()
		os.Remove(path)
		return nil, err
	}
	var sf segFile = osSegment{s.f}
	if j.wrap != nil {
		sf = j.wrap(sf)
	}
	return &journal{dir: j.dir, first: first, f: sf, alloc: s.size, wrap: j.wrap}, nil
}

// pruneSegments removes segments whose records are all at or below keep
// (covered by the older kept snapshot).
func pruneSegments(dir string, keep uint64) error {
	segs, err := segments(dir)
	if err != nil {
		return err
	}
	for i, first := range segs {
		// Segment i holds first..next-1; it is redundant when next-1 <= keep.
		if i+1 < len(segs) && segs[i+1]-1 <= keep {
			if err := os.Remove(filepath.Join(dir, segmentName(first))); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
