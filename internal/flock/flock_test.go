//go:build unix

package flock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAcquire: a second holder (another open of the file, even in this
// process) waits until the first releases, or until its context ends;
// TryLock reports ErrHeld meanwhile.
func TestAcquire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	release, err := Acquire(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := TryLock(f); !errors.Is(err, ErrHeld) {
		t.Fatalf("TryLock while held: %v, want ErrHeld", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire while held: %v, want the context's error", err)
	}

	got := make(chan error, 1)
	go func() {
		r, err := Acquire(context.Background(), path)
		if err == nil {
			r()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("second Acquire returned while the lock was held: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("second Acquire never got the released lock")
	}
	if err := TryLock(f); err != nil {
		t.Fatalf("TryLock after every release: %v", err)
	}
}
