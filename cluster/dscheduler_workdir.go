package cluster

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/internal/flock"
)

// The node's shuffle directory (WorkDir/shuffle/<node>) belongs to one
// running process, guarded by an exclusive lock on WorkDir/shuffle/<node>.lock:
// at start whatever a crashed run left there is removed; at Close the
// directory goes (and the whole WorkDir when DistConfig.RemoveWorkDir).

// workDirLock holds the shuffle directory's lock file.
type workDirLock struct {
	f *os.File
}

// claimShuffleDir locks dir for this process and empties it.
func claimShuffleDir(dir string) (*workDirLock, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	f, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	if err := flock.TryLock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("work dir %s is in use by another quiver process (%v): give each node its own --work-dir or --node-name", filepath.Dir(dir), err)
	}
	// Leftovers of a run that crashed (a clean exit removes them).
	if err := os.RemoveAll(dir); err != nil {
		flock.Unlock(f)
		f.Close()
		return nil, fmt.Errorf("work dir: removing leftover shuffle files: %w", err)
	}
	// And operator spill files of crashed runs (best effort: live
	// processes' stay locked, and a failure here only leaves files).
	execution.RemoveStaleSpill(filepath.Dir(filepath.Dir(dir))) //nolint:errcheck
	return &workDirLock{f: f}, nil
}

// release removes dir (and root, when removeRoot) and drops the lock.
func (l *workDirLock) release(dir, root string, removeRoot bool) error {
	err := os.RemoveAll(dir)
	name := l.f.Name()
	os.Remove(name) // still locked: no one else uses it meanwhile
	flock.Unlock(l.f)
	l.f.Close()
	if removeRoot {
		if rerr := os.RemoveAll(root); err == nil {
			err = rerr
		}
	}
	return err
}
