package loadgen

import "syscall"

// childAttr puts a started broker in its own process group, so that a
// Ctrl-C at the terminal reaches the loadgen only (which then writes its
// partial results and stops the broker itself), and kills it if the
// loadgen dies first.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
