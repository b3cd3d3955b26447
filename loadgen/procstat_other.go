//go:build !linux

package loadgen

// ReadProcess needs /proc: outside Linux it returns ErrNoProcfs.
func ReadProcess(pid int) (ProcStat, error) { return ProcStat{}, ErrNoProcfs }

// readSelf returns nothing outside Linux.
func readSelf() ProcStat { return ProcStat{} }
