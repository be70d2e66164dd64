//go:build !linux

package integration

import "os/exec"

// dieWithTest: only Linux can tie a child's life to the test binary's.
func dieWithTest(cmd *exec.Cmd) *exec.Cmd { return cmd }
