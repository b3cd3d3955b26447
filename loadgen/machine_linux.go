package loadgen

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strings"
)

// DescribeMachine reads the CPU model, the online CPUs (not only those this
// process may run on), the memory and the kernel release.
func DescribeMachine() Machine {
	m := Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version(), CPUs: runtime.NumCPU()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		n := 0
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			switch strings.TrimSpace(k) {
			case "processor":
				n++
			case "model name":
				if m.CPU == "" {
					m.CPU = strings.Join(strings.Fields(v), " ")
				}
			}
		}
		if n > 0 {
			m.CPUs = n
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = string(bytes.TrimSpace(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.Memory = statusKB(b, "MemTotal:")
	}
	return m
}

// OnlineCPUs returns the number of CPUs of the machine.
func OnlineCPUs() int { return DescribeMachine().CPUs }
