//go:build !unix

package cluster

import "os"

// Without flock the directory is not guarded against a second process.
func lockFile(f *os.File) error { return nil }

func unlockFile(f *os.File) {}
