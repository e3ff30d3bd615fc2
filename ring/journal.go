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

var errCorrupt = errors.New("corrupt journal record")

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
type journal struct {
	dir  string
	f    *os.File
	size int64
	buf  []byte
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

// replay calls fn for every intact record with seq > after, in order. A bad
// record ends its segment (a torn tail); the returned offsets say where each
// segment's intact part ends.
func replay(dir string, after uint64, fn func(entry) error) (map[uint64]int64, error) {
	segs, err := segments(dir)
	if err != nil {
		return nil, err
	}
	good := map[uint64]int64{}
	for _, first := range segs {
		f, err := os.Open(filepath.Join(dir, segmentName(first)))
		if err != nil {
			return nil, err
		}
		r := bufio.NewReaderSize(f, 1<<16)
		var off int64
		var hdr [8]byte
		for {
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				break
			}
			n := binary.LittleEndian.Uint32(hdr[:4])
			if n > 1<<30 {
				break
			}
			body := make([]byte, n)
			if _, err := io.ReadFull(r, body); err != nil {
				break
			}
			if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
				break
			}
			e, err := decodeEntry(body)
			if err != nil {
				break
			}
			off += 8 + int64(n)
			if e.Seq > after || e.Kind == kindQuarantine {
				if err := fn(e); err != nil {
					f.Close()
					return nil, err
				}
			}
		}
		f.Close()
		good[first] = off
	}
	return good, nil
}

// openJournal opens (or creates) the segment starting at first for appending,
// cutting a torn tail at goodSize when known.
func openJournal(dir string, first uint64, goodSize int64, known bool) (*journal, error) {
	path := filepath.Join(dir, segmentName(first))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if known {
		if err := f.Truncate(goodSize); err != nil {
			f.Close()
			return nil, err
		}
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	return &journal{dir: dir, f: f, size: size}, nil
}

// add buffers a record; write appends everything buffered (the group
// commit: one write for every message taken from the mailbox at once).
func (j *journal) add(e *entry) { j.buf = appendEntry(j.buf, e) }

// write hands the buffered records to the kernel; the ring's syncer
// fsyncs them (once for every batch written meanwhile) before any reply.
func (j *journal) write() error {
	if len(j.buf) == 0 {
		return nil
	}
	n, err := j.f.Write(j.buf)
	j.size += int64(n)
	j.buf = j.buf[:0]
	return err
}

func (j *journal) close() error {
	if j == nil || j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// rotate closes the current segment and starts one at first.
func (j *journal) rotate(first uint64) (*journal, error) {
	if err := j.close(); err != nil {
		return nil, err
	}
	return openJournal(j.dir, first, 0, false)
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
