package integration

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes the kernel kill cmd when the test binary dies (a
// `go test -timeout` panic skips t.Cleanup): no server is left spinning.
// Pdeathsig fires when the forking OS thread exits, so not for children of
// a test that discards locked threads (the netns partition test).
func dieWithTest(cmd *exec.Cmd) *exec.Cmd {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	return cmd
}
