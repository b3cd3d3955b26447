// Command pubsubx-loadgen measures MQTT brokers: PubSubX's engines against
// each other and against other brokers, honestly (open loop, latency from
// each message's intended send time, its own ceiling measured and stated).
//
//	pubsubx-loadgen run -addr HOST:PORT [flags]   one scenario against one broker
//	pubsubx-loadgen compare [flags]               every PubSubX engine (and mosquitto), trials interleaved
//	pubsubx-loadgen report DIR [DIR2]             regenerate DIR's report and plots; or compare two folders
//	pubsubx-loadgen sink [-size N] PORT           the flooding sink that measures the loadgen's ceiling
//
// run and compare write a results folder (results/DATE_NAME by default):
// run.json, a .hgrm per target and trial, bench.txt, report.md and SVG
// plots. They print one status line a second on stderr (-quiet: none);
// Ctrl-C stops the measurement and writes the partial results, marked
// incomplete.
//
// Pinning: compare starts each broker with taskset on -broker-cpu (with
// GOMAXPROCS and event loops set to -broker-procs) and runs the loadgen on
// -loadgen-cpu: it re-executes itself once under taskset with GOMAXPROCS
// set to -procs (the environment variable PUBSUBX_LOADGEN_PINNED marks the
// re-executed process). Without taskset or a second CPU it runs unpinned
// and says so in every output. run pins the loadgen only with -loadgen-cpu.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/pubsubx/pubsubx/loadgen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Usage: pubsubx-loadgen COMMAND [flags]

Commands:
  run      one scenario against one broker (-addr HOST:PORT)
  compare  the same scenario against every PubSubX engine (and mosquitto), trials interleaved
  report   regenerate a results folder's report.md and plots (report DIR), or compare two (report DIR1 DIR2)
  sink     run the flooding sink that measures the loadgen's own ceiling (sink [-size N] PORT)

pubsubx-loadgen COMMAND -h lists a command's flags.
`

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "run":
		err = runCommand(ctx, args[1:], stderr)
	case "compare":
		err = compareCommand(ctx, args[1:], stderr)
	case "report":
		err = reportCommand(args[1:], stdout, stderr)
	case "sink":
		err = sinkCommand(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "pubsubx-loadgen: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "pubsubx-loadgen: interrupted")
		return 130
	}
	fmt.Fprintf(stderr, "pubsubx-loadgen: %v\n", err)
	return 1
}

// errUsage reports a command line error already printed.
var errUsage = errors.New("usage")

// reportCommand regenerates a folder's derived files, or compares two.
func reportCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "with two folders: write the comparison here instead of stdout")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: pubsubx-loadgen report DIR         regenerate DIR's report.md, bench.txt and plots from run.json\n"+
			"       pubsubx-loadgen report [-o FILE] DIR1 DIR2   compare two results folders (Markdown)\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch fs.NArg() {
	case 1:
		if err := loadgen.RegenerateReport(fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s/report.md, bench.txt, latency.svg, throughput.svg\n", fs.Arg(0))
		return nil
	case 2:
		a, err := loadgen.ReadRunRecord(fs.Arg(0))
		if err != nil {
			return err
		}
		b, err := loadgen.ReadRunRecord(fs.Arg(1))
		if err != nil {
			return err
		}
		w := stdout
		if *out != "" {
			f, err := os.Create(*out)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		return loadgen.WriteDiff(w, fs.Arg(0), a, fs.Arg(1), b)
	}
	fs.Usage()
	return errUsage
}

// sinkCommand runs the flooding sink on 127.0.0.1:PORT until stopped.
func sinkCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	size := fs.Int("size", loadgen.DefaultSize, "payload bytes")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: pubsubx-loadgen sink [-size N] PORT\n\nFloods every subscriber of .../sink/N with stream N; prints \"Listening on ADDR\".\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", fs.Arg(0)))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Listening on %s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		os.Exit(0) // the flooding connections end with the process
	}()
	return loadgen.ServeSink(ln, *size)
}
