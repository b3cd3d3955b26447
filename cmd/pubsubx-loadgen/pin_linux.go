package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/pubsubx/pubsubx/loadgen"
	"golang.org/x/sys/unix"
)

// pinnedEnv marks the loadgen re-executed under taskset; its value is the
// CPU list.
const pinnedEnv = "PUBSUBX_LOADGEN_PINNED"

// pinLoadgen runs the loadgen on cpu with GOMAXPROCS procs. The first time
// it re-executes the program with argv under taskset (and does not return);
// in the re-executed process it checks the affinity and describes the
// pinning. Re-executing, rather than setting the affinity of the running
// process, pins every thread the Go runtime will ever start.
func pinLoadgen(cpu string, procs int, argv []string) (loadgen.PinningRecord, error) {
	rec := loadgen.PinningRecord{Enabled: true, Method: "taskset (the loadgen re-executes itself under taskset)", LoadgenCPU: cpu, LoadgenGOMAXPROCS: procs}
	if os.Getenv(pinnedEnv) == cpu {
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(0, &set); err == nil {
			var cpus []int
			for i := range 1024 {
				if set.IsSet(i) {
					cpus = append(cpus, i)
				}
			}
			rec.Note = fmt.Sprintf("loadgen affinity checked: CPUs %v", cpus)
		}
		return rec, nil
	}
	taskset, err := lookTaskset()
	if err != nil {
		return rec, err
	}
	self, err := os.Executable()
	if err != nil {
		return rec, err
	}
	env := append(os.Environ(), pinnedEnv+"="+cpu, "GOMAXPROCS="+itoa(procs))
	err = syscall.Exec(taskset, append([]string{taskset, "-c", cpu, self}, argv...), env)
	return rec, fmt.Errorf("re-executing under taskset: %w", err)
}

func lookTaskset() (string, error) { return exec.LookPath("taskset") }
