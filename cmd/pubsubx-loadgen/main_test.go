package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pubsubx/pubsubx/engines/registry"
	"github.com/pubsubx/pubsubx/loadgen"
)

// testMainEnv makes the test binary run as pubsubx-loadgen itself, so that
// the end-to-end test runs the real command (its re-execution under
// taskset and its flooding sink included) without building it.
const testMainEnv = "PUBSUBX_LOADGEN_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(testMainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// loadgenCmd returns the command running pubsubx-loadgen with args.
func loadgenCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), testMainEnv+"=1")
	return cmd
}

// buildServer builds pubsubx-server into dir, with the race detector when
// this test has it (its packages are then already compiled).
func buildServer(t *testing.T, dir string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build pubsubx-server")
	}
	wd, _ := os.Getwd()
	root, err := loadgen.ModuleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "pubsubx-server")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./cmd/pubsubx-server")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building pubsubx-server: %v\n%s", err, out)
	}
	return bin
}

// TestCompareEndToEnd runs a tiny comparison of two engines (pinned when
// taskset and two CPUs are there, as the command decides), then checks the
// results folder, regenerates its report and compares it with itself.
func TestCompareEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts brokers")
	}
	engines := registry.Names()
	if len(engines) < 2 {
		t.Skip("fewer than two engines")
	}
	targets := engines[0] + "," + engines[len(engines)-1]
	dir := t.TempDir()
	out := filepath.Join(dir, "results")
	cmd := loadgenCmd("compare", "-server-bin", buildServer(t, dir), "-targets", targets, "-trials", "2",
		"-subs", "5", "-rate", "2000", "-warmup", "200ms", "-duration", "500ms", "-drain", "5s",
		"-ceiling", "400ms", "-ceiling-subs", "10", "-out", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("compare: %v\n%s", err, stderr.String())
	}
	if err := loadgen.VerifyResults(out); err != nil {
		t.Errorf("results folder: %v\nstderr:\n%s", err, stderr.String())
	}
	rec, err := loadgen.ReadRunRecord(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rec.TargetNames(), ","); got != targets || len(rec.Trials) != 4 || rec.Incomplete {
		t.Errorf("targets %s, %d trials, incomplete %v; want %s, 4, complete", got, len(rec.Trials), rec.Incomplete, targets)
	}
	for _, tr := range rec.Trials {
		if tr.Result == nil || tr.Result.Lost != 0 || !tr.Result.Quiesced || tr.Result.Measured != 5*1000 {
			t.Errorf("trial %s/%d: error %q, result %+v; want 1,000 messages to 5 subscribers, none lost", tr.Target, tr.Trial, tr.Error, tr.Result)
		}
	}
	if rec.Ceiling == nil || rec.Ceiling.Rate <= 0 {
		t.Errorf("no loadgen ceiling (%s)", rec.CeilingError)
	}
	if rec.Pinning.Enabled && !strings.Contains(rec.Pinning.Note, "affinity checked") {
		t.Errorf("pinned, but the loadgen's affinity was not checked: %+v", rec.Pinning)
	}
	// Regenerate the report, and compare the folder with itself.
	os.Remove(filepath.Join(out, "report.md"))
	if b, err := loadgenCmd("report", out).CombinedOutput(); err != nil {
		t.Fatalf("report: %v\n%s", err, b)
	}
	if err := loadgen.VerifyResults(out); err != nil {
		t.Errorf("after report: %v", err)
	}
	diff, err := loadgenCmd("report", out, out).Output()
	if err != nil || !bytes.Contains(diff, []byte("| "+engines[0]+" |")) || !bytes.Contains(diff, []byte("1.00")) {
		t.Errorf("report DIR DIR: %v\n%s", err, diff)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nonsense"}, {"run"}, {"report"}, {"compare", "-targets", "no-such-engine"}, {"run", "-addr", "x:1", "-scenario", "nope"}} {
		var stderr bytes.Buffer
		if code := run(args, &bytes.Buffer{}, &stderr); code == 0 {
			t.Errorf("%q: exit code 0, want an error", args)
		} else if stderr.Len() == 0 {
			t.Errorf("%q: exit code %d and no message", args, code)
		}
	}
}

// TestInterruptWritesPartialResults interrupts a comparison during its
// first trial, as Ctrl-C does: the results so far are written, marked
// incomplete, and still well formed.
func TestInterruptWritesPartialResults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts brokers")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "results")
	cmd := loadgenCmd("compare", "-server-bin", buildServer(t, dir), "-targets", registry.Names()[0], "-trials", "3",
		"-subs", "3", "-rate", "1000", "-warmup", "100ms", "-duration", "20s", "-ceiling", "0", "-pin=false", "-out", out)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(seen.String(), "trial 1/3]") { // a status line: measuring
		n, err := stderr.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			t.Fatalf("no status line before %v:\n%s", err, seen.String())
		}
	}
	cmd.Process.Signal(os.Interrupt)
	rest, _ := io.ReadAll(stderr)
	err = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit code %d (%v), want 130\n%s%s", code, err, seen.String(), rest)
	}
	rec, err := loadgen.ReadRunRecord(out)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Incomplete || len(rec.Trials) != 1 || rec.Trials[0].Result == nil || !rec.Trials[0].Result.Incomplete {
		t.Errorf("incomplete %v, %d trials (%+v): want one incomplete trial", rec.Incomplete, len(rec.Trials), rec.Trials)
	}
	if err := loadgen.VerifyResults(out); err != nil {
		t.Errorf("partial results: %v", err)
	}
	if report, _ := os.ReadFile(filepath.Join(out, "report.md")); !bytes.Contains(report, []byte("INCOMPLETE")) {
		t.Error("report.md does not say INCOMPLETE")
	}
}
