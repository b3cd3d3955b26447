package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// clockTick is the unit of /proc/PID/stat's times (USER_HZ: 100 on every
// Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// ReadProcess reads process pid's CPU time (/proc/PID/stat) and memory
// (/proc/PID/status).
func ReadProcess(pid int) (ProcStat, error) {
	var st ProcStat
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, err
	}
	// The command name (field 2) may hold spaces: fields count from its ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return st, fmt.Errorf("loadgen: /proc/%d/stat: unexpected format", pid)
	}
	f := bytes.Fields(stat[i+1:])
	if len(f) < 13 {
		return st, fmt.Errorf("loadgen: /proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64) // field 14
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return st, fmt.Errorf("loadgen: /proc/%d/stat: unexpected format", pid)
	}
	st.CPU = time.Duration(utime+stime) * clockTick
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	st.RSS = statusKB(status, "VmRSS:")
	st.PeakRSS = statusKB(status, "VmHWM:")
	return st, nil
}

// statusKB returns the value of a "Key: N kB" line of /proc/PID/status,
// in bytes.
func statusKB(status []byte, key string) int64 {
	i := bytes.Index(status, []byte(key))
	if i < 0 {
		return 0
	}
	f := bytes.Fields(status[i+len(key):])
	if len(f) == 0 {
		return 0
	}
	kb, _ := strconv.ParseInt(string(f[0]), 10, 64)
	return kb << 10
}

// readSelf reads this process's CPU time with microsecond resolution
// (getrusage) and its memory.
func readSelf() ProcStat {
	st, _ := ReadProcess(os.Getpid())
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		st.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return st
}
