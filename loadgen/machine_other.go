//go:build !linux

package loadgen

import "runtime"

// DescribeMachine returns what the Go runtime knows of the machine.
func DescribeMachine() Machine {
	return Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version(), CPUs: runtime.NumCPU()}
}

// OnlineCPUs returns the number of CPUs of the machine.
func OnlineCPUs() int { return runtime.NumCPU() }
