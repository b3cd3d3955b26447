package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/pubsubx/pubsubx/engines/registry"
	"github.com/pubsubx/pubsubx/loadgen"
)

// compareCommand runs one scenario against several brokers it starts
// itself, trials interleaved.
func compareCommand(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var w workloadFlags
	w.register(fs, 5)
	targetList := fs.String("targets", "engines,mosquitto", "comma-separated targets: an engine name, \"engines\" (every engine: "+
		strings.Join(registry.Names(), ", ")+"), \"mosquitto\" (skipped by default when not installed), or NAME=HOST:PORT for a broker already running")
	baseline := fs.String("baseline", "", "target the ratios are relative to (default: the first)")
	serverBin := fs.String("server-bin", "", "pubsubx-server binary (default: build ./cmd/pubsubx-server of the source tree around the current directory)")
	mosquittoBin := fs.String("mosquitto-bin", "", "mosquitto binary (default: mosquitto on PATH, or /usr/sbin/mosquitto)")
	pin := fs.Bool("pin", true, "pin the brokers and the loadgen to separate CPUs with taskset (skipped, and said so, without taskset or a second CPU)")
	brokerCPU := fs.String("broker-cpu", "0", "CPU list of the brokers and the flooding sink")
	loadgenCPU := fs.String("loadgen-cpu", "1", "CPU list of the loadgen")
	brokerProcs := fs.Int("broker-procs", 1, "GOMAXPROCS and event loops of the PubSubX brokers")
	grace := fs.Duration("grace", time.Minute, "-grace of the PubSubX brokers")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: pubsubx-loadgen compare [flags]\n\nStarts each target broker itself and measures the same scenario against each, trials interleaved.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	cfg, err := w.config()
	if err != nil {
		return err
	}
	targets, err := parseTargets(*targetList, mosquittoBin)
	if err != nil {
		return err
	}
	if *baseline != "" {
		if targets, err = baselineFirst(targets, *baseline); err != nil {
			return err
		}
	}
	// Pin last: pinning re-executes the command, which must not fail then.
	pinning, err := decidePinning(*pin, *brokerCPU, *loadgenCPU, w.procs, *brokerProcs, append([]string{"compare"}, args...))
	if err != nil {
		return err
	}
	runtime.GOMAXPROCS(w.procs)
	brokerCPUs := ""
	if pinning.Enabled {
		brokerCPUs = *brokerCPU
	}
	launcher, err := newLauncher(brokerCPUs, *brokerProcs)
	if err != nil {
		return err
	}
	defer os.RemoveAll(launcher.WorkDir)
	launcher.Grace, launcher.MosquittoBin = *grace, *mosquittoBin
	commit := ""
	if wd, err := os.Getwd(); err == nil {
		if root, err := loadgen.ModuleRoot(wd); err == nil {
			commit = loadgen.Commit(root)
			if *serverBin == "" {
				if !w.quiet {
					fmt.Fprintf(stderr, "building pubsubx-server from %s\n", root)
				}
				if *serverBin, err = loadgen.BuildServer(ctx, root, launcher.WorkDir); err != nil {
					return err
				}
			}
		}
	}
	if *serverBin == "" && hasKind(targets, loadgen.KindPubSubX) {
		return loadgen.ErrNoModule
	}
	launcher.ServerBin = *serverBin
	return measureAndWrite(ctx, &w, cfg, targets, launcher, pinning, commit, append([]string{"compare"}, args...), stderr)
}

// decidePinning pins the loadgen (re-executing it) when asked and
// possible, and otherwise says why not.
// argv is the command line to re-execute (without the program name).
func decidePinning(want bool, brokerCPU, loadgenCPU string, procs, brokerProcs int, argv []string) (loadgen.PinningRecord, error) {
	rec := loadgen.PinningRecord{LoadgenGOMAXPROCS: procs, BrokerGOMAXPROCS: brokerProcs}
	switch _, err := lookTaskset(); {
	case !want:
		rec.Note = "-pin=false"
	case err != nil:
		rec.Note = "taskset not found"
	case loadgen.OnlineCPUs() < 2:
		rec.Note = "fewer than two CPUs"
	default:
		pinned, err := pinLoadgen(loadgenCPU, procs, argv)
		if err != nil {
			return rec, err
		}
		pinned.BrokerCPU, pinned.BrokerGOMAXPROCS = brokerCPU, brokerProcs
		return pinned, nil
	}
	return rec, nil
}

// parseTargets expands the -targets list.
func parseTargets(list string, mosquittoBin *string) ([]loadgen.TargetSpec, error) {
	var out []loadgen.TargetSpec
	add := func(t loadgen.TargetSpec) {
		for _, o := range out {
			if o.Name == t.Name {
				return
			}
		}
		out = append(out, t)
	}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
		case item == "engines":
			for _, e := range registry.Names() {
				add(loadgen.TargetSpec{Name: e, Kind: loadgen.KindPubSubX, Engine: e})
			}
		case item == "mosquitto":
			if *mosquittoBin == "" {
				*mosquittoBin = findMosquitto()
			}
			if *mosquittoBin == "" {
				if list == "engines,mosquitto" {
					continue // the default list: mosquitto only when installed
				}
				return nil, errors.New("mosquitto not found (install it, or give -mosquitto-bin)")
			}
			add(loadgen.TargetSpec{Name: "mosquitto", Kind: loadgen.KindMosquitto})
		case strings.Contains(item, "="):
			name, addr, _ := strings.Cut(item, "=")
			add(loadgen.TargetSpec{Name: name, Kind: loadgen.KindExternal, Addr: addr})
		default:
			if _, ok := registry.Lookup(item); !ok {
				return nil, fmt.Errorf("unknown target %q: engines are %s; also engines, mosquitto, NAME=HOST:PORT", item, strings.Join(registry.Names(), ", "))
			}
			add(loadgen.TargetSpec{Name: item, Kind: loadgen.KindPubSubX, Engine: item})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no targets")
	}
	return out, nil
}

func findMosquitto() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto"
	}
	return ""
}

// baselineFirst moves the baseline to the front.
func baselineFirst(targets []loadgen.TargetSpec, name string) ([]loadgen.TargetSpec, error) {
	for i, t := range targets {
		if t.Name == name {
			return append([]loadgen.TargetSpec{t}, append(targets[:i:i], targets[i+1:]...)...), nil
		}
	}
	return nil, fmt.Errorf("baseline %q is not among the targets", name)
}

func hasKind(targets []loadgen.TargetSpec, kind string) bool {
	for _, t := range targets {
		if t.Kind == kind {
			return true
		}
	}
	return false
}
