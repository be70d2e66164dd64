//go:build unix

package flock

import (
	"errors"
	"os"
	"syscall"
)

// TryLock takes the exclusive lock on f without waiting (ErrHeld when
// another open file description holds it).
func TryLock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return ErrHeld
		}
		return err
	}
}

// Unlock drops the lock (closing f does too).
func Unlock(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) } //nolint:errcheck
