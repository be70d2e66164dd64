// Package flock is an exclusive advisory lock on a file (flock(2) on
// unix). The kernel releases it when the file is closed or the process
// dies, so a crashed holder never leaves it stuck. It belongs to the open
// file description: two opens of one file exclude each other, within one
// process too. Local filesystems support it, and so does NFS on Linux
// (emulated with POSIX byte-range locks: NFSv4, or NFSv3 with lockd);
// where the filesystem cannot lock, TryLock fails with that error rather
// than pretending.
package flock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrHeld is TryLock's error when another holder has the lock.
var ErrHeld = errors.New("locked by another holder")

// Acquire opens (creating) path and locks it, retrying while another holder
// has it until ctx ends. release unlocks and closes. Meant for short
// critical sections: waiters poll rather than block a thread in the kernel,
// so a canceled statement stops waiting at once.
func Acquire(ctx context.Context, path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	wait := time.Millisecond
	for {
		err := TryLock(f)
		if err == nil {
			return func() { Unlock(f); f.Close() }, nil
		}
		if !errors.Is(err, ErrHeld) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 20*time.Millisecond)
	}
}
