package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/pubsubx/pubsubx/loadgen"
)

// runCommand runs one scenario against one broker.
func runCommand(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var w workloadFlags
	w.register(fs, 1)
	addr := fs.String("addr", "", "the broker's HOST:PORT (required)")
	pid := fs.Int("pid", 0, "the broker's process id, to read its CPU and memory from /proc")
	loadgenCPU := fs.String("loadgen-cpu", "", "pin the loadgen to this CPU list with taskset (re-executes itself)")
	sinkCPU := fs.String("sink-cpu", "", "pin the ceiling's flooding sink to this CPU list")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: pubsubx-loadgen run -addr HOST:PORT [flags]\n\nRuns one scenario against one MQTT broker and writes a results folder.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addr == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	cfg, err := w.config()
	if err != nil {
		return err
	}
	pin := loadgen.PinningRecord{Note: "run: -loadgen-cpu not given"}
	if *loadgenCPU != "" {
		if pin, err = pinLoadgen(*loadgenCPU, w.procs, append([]string{"run"}, args...)); err != nil {
			return err
		}
		pin.BrokerCPU = "(external)"
	}
	runtime.GOMAXPROCS(w.procs)
	pin.LoadgenGOMAXPROCS = w.procs
	cfg.Addr = *addr
	launcher, err := newLauncher(*sinkCPU, 1)
	if err != nil {
		return err
	}
	defer os.RemoveAll(launcher.WorkDir)
	target := loadgen.TargetSpec{Name: *addr, Kind: loadgen.KindExternal, Addr: *addr, PID: *pid}
	return measureAndWrite(ctx, &w, cfg, []loadgen.TargetSpec{target}, launcher, pin, "", append([]string{"run"}, args...), stderr)
}

// measureAndWrite runs the comparison of targets and writes its results
// folder after every trial (and once more at the end); argv is the command
// line, recorded in run.json.
func measureAndWrite(ctx context.Context, w *workloadFlags, cfg loadgen.Config, targets []loadgen.TargetSpec,
	launcher *loadgen.Launcher, pin loadgen.PinningRecord, commit string, argv []string, stderr io.Writer) error {
	started := time.Now()
	dir := w.outDir(cfg, started)
	if w.cpuProfile != "" {
		f, err := os.Create(w.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	logf := func(format string, args ...any) {
		if !w.quiet {
			fmt.Fprintf(stderr, format+"\n", args...)
		}
	}
	if !w.quiet {
		cfg.Status = func(st loadgen.Status) { fmt.Fprintln(stderr, st) }
	}
	rec := &loadgen.RunRecord{
		Tool: "pubsubx-loadgen", Command: append([]string{"pubsubx-loadgen"}, argv...), Started: started,
		Settings: w.settings(cfg), Machine: loadgen.DescribeMachine(), Commit: commit, Pinning: pin, Baseline: targets[0].Name,
	}
	c := &loadgen.Comparison{
		Workload: cfg, Targets: targets, Trials: w.trials, Launcher: launcher,
		CeilingSubscribers: w.ceilingSubs, CeilingSize: w.ceilingSize, CeilingWarmup: w.ceiling / 4, CeilingDuration: w.ceiling,
		Record: rec, Progress: func(s string) { logf("%s", s) },
		Checkpoint: func(r *loadgen.RunRecord) error { return loadgen.WriteResults(dir, r) },
	}
	logf("pubsubx-loadgen: %s (%s), %s; results in %s", cfg.Scenario.Name(), cfg.Scenario.Params(), cfg.Mode, dir)
	err := c.Run(ctx)
	rec.Finished = time.Now()
	if werr := loadgen.WriteResults(dir, rec); werr != nil {
		return werr
	}
	if rec.Incomplete {
		fmt.Fprintf(stderr, "pubsubx-loadgen: partial results (marked incomplete) in %s\n", dir)
	} else {
		fmt.Fprintf(stderr, "pubsubx-loadgen: results in %s (report.md)\n", dir)
	}
	return err
}

// newLauncher prepares a launcher pinning its processes to cpu (none when
// ""), with the flooding sink run by this very executable.
func newLauncher(cpu string, procs int) (*loadgen.Launcher, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "pubsubx-loadgen-")
	if err != nil {
		return nil, err
	}
	l := &loadgen.Launcher{SinkCommand: []string{self, "sink"}, BrokerCPU: cpu, BrokerProcs: procs, WorkDir: work, Taskset: "taskset"}
	if cpu != "" {
		if l.Taskset, err = lookTaskset(); err != nil {
			os.RemoveAll(work)
			return nil, err
		}
	}
	return l, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
