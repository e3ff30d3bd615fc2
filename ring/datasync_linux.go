package ring

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync is fdatasync(2): the data and only the metadata needed to read
// it back (the size), not timestamps.
func datasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}
