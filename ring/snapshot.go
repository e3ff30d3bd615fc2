package ring

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// snapshotFile is the versioned snapshot format, on disk and over the wire
// (Snapshot/Restore): the handler's state together with everything the
// runtime needs to continue exactly — the anti-replay windows, the
// quarantined seqs and the ts watermark.
type snapshotFile struct {
	Version     int            `json:"version"`
	KernelID    string         `json:"kernel_id"`
	Seq         uint64         `json:"seq"`
	LastTS      int64          `json:"last_ts"`
	HasTS       bool           `json:"has_ts,omitempty"`
	DataSeen    bool           `json:"data_seen,omitempty"`
	State       []byte         `json:"state"`
	Clients     []clientWindow `json:"clients,omitempty"`
	Quarantined []uint64       `json:"quarantined,omitempty"`
}

const snapshotVersion = 1

func snapshotName(seq uint64) string { return fmt.Sprintf("snap-%020d.json", seq) }

func snapshots(dir string) ([]uint64, error) {
	names, err := filepath.Glob(filepath.Join(dir, "snap-*.json"))
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, n := range names {
		s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(n), "snap-"), ".json")
		if v, err := strconv.ParseUint(s, 10, 64); err == nil {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil
}

// writeSnapshot writes atomically (temp file, fsync, rename, fsync of the
// directory) and keeps the newest two; it returns the older kept seq (the
// journal before it is no longer needed), or the new one when alone.
func writeSnapshot(dir string, data []byte, seq uint64) (uint64, error) {
	tmp, err := os.CreateTemp(dir, ".snap-*.tmp")
	if err != nil {
		return 0, err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return 0, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return 0, err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, snapshotName(seq))); err != nil {
		os.Remove(tmp.Name())
		return 0, err
	}
	if err := syncDir(dir); err != nil {
		return 0, err
	}
	all, err := snapshots(dir)
	if err != nil {
		return 0, err
	}
	for len(all) > 2 {
		if err := os.Remove(filepath.Join(dir, snapshotName(all[0]))); err != nil && !os.IsNotExist(err) {
			return 0, err
		}
		all = all[1:]
	}
	return all[0], nil
}

// loadSnapshot reads the newest readable snapshot (falling back to the
// older one if the newest is damaged); ok is false when there is none.
func loadSnapshot(dir string) (snapshotFile, bool, error) {
	all, err := snapshots(dir)
	if err != nil {
		return snapshotFile{}, false, err
	}
	for i := len(all) - 1; i >= 0; i-- {
		data, err := os.ReadFile(filepath.Join(dir, snapshotName(all[i])))
		if err != nil {
			continue
		}
		var s snapshotFile
		if err := json.Unmarshal(data, &s); err != nil || s.Version != snapshotVersion {
			continue
		}
		return s, true, nil
	}
	return snapshotFile{}, false, nil
}
