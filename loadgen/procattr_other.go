//go:build !linux

package loadgen

import "syscall"

// childAttr: nothing special outside Linux.
func childAttr() *syscall.SysProcAttr { return nil }
