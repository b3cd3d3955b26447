package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// wait bounds every wait of these tests: generous, CI machines are slow.
const wait = 15 * time.Second

// Paths of the binaries TestMain builds.
var clientBin, serverBin string

// TestMain builds pubsubx-client and pubsubx-server once, so that the tests
// drive the real programs as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pubsubx-client-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exe := ""
	if runtime.GOOS == "windows" {
		exe = ".exe"
	}
	clientBin = filepath.Join(dir, "pubsubx-client"+exe)
	serverBin = filepath.Join(dir, "pubsubx-server"+exe)
	for bin, pkg := range map[string]string{clientBin: ".", serverBin: "../pubsubx-server"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running program whose stdout lines the test reads.
type proc struct {
	t     testing.TB
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan struct{} // closed when stdout is closed and the process waited for

	mu  sync.Mutex
	out []string // every line so far, for failure messages
}

// start runs bin with args, stdin a pipe; the process is killed at the end
// of the test.
func start(t testing.TB, name, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := runProc(t, name, cmd)
	p.stdin = stdin
	return p
}

// runProc starts cmd, whose stdin the caller has set, reading its output.
func runProc(t testing.TB, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{t: t, name: name, cmd: cmd, lines: make(chan string, 1000), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.out = append(p.out, sc.Text())
			p.mu.Unlock()
			p.lines <- sc.Text()
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// startServer runs pubsubx-server on a free port and returns it and the port.
func startServer(t testing.TB, flags ...string) (*proc, string) {
	t.Helper()
	s := start(t, "server", serverBin, append(flags, "0")...)
	line := s.waitFor("INFO: Listening on ")
	addr := strings.Fields(strings.TrimPrefix(line, "INFO: Listening on "))[0]
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("server address %q: %v", addr, err)
	}
	return s, port
}

// startClient runs pubsubx-client with piped stdin.
func startClient(t testing.TB, name string, flags ...string) *proc {
	return start(t, name, clientBin, flags...)
}

// send writes a command line.
func (p *proc) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("%s: writing %q: %v", p.name, line, err)
	}
}

// next returns the next output line.
func (p *proc) next() string {
	p.t.Helper()
	select {
	case line := <-p.lines:
		return line
	case <-time.After(wait):
		p.t.Fatalf("%s: no output line within %v; output so far:\n%s", p.name, wait, p.output())
		return ""
	}
}

// expect checks that the next output lines are exactly want.
func (p *proc) expect(want ...string) {
	p.t.Helper()
	for _, w := range want {
		if got := p.next(); got != w {
			p.t.Fatalf("%s: got line %q, want %q; output so far:\n%s", p.name, got, w, p.output())
		}
	}
}

// waitFor skips output lines until one containing substr, and returns it.
func (p *proc) waitFor(substr string) string {
	p.t.Helper()
	for {
		if line := p.next(); strings.Contains(line, substr) {
			return line
		}
	}
}

// expectExit waits for the process to exit by itself with code 0, after
// checking that it printed nothing more.
func (p *proc) expectExit() {
	p.t.Helper()
	p.expectExitCode(0)
}

// expectExitCode is expectExit with exit code want.
func (p *proc) expectExitCode(want int) {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(wait):
		p.t.Fatalf("%s did not exit; output:\n%s", p.name, p.output())
	}
	select {
	case line := <-p.lines:
		p.t.Fatalf("%s: unexpected line %q", p.name, line)
	default:
	}
	if code := p.cmd.ProcessState.ExitCode(); code != want {
		p.t.Fatalf("%s exited with %d, want %d", p.name, code, want)
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.out, "\n")
}

// connect connects client p as name and checks the INFO line.
func (p *proc) connect(port, name string) {
	p.t.Helper()
	p.send("connect " + port + " " + name)
	p.expect("INFO: Connection successfully established")
}

// subscribe subscribes p and waits until the server has registered it.
func (p *proc) subscribe(server *proc, name, topic string) {
	p.t.Helper()
	p.send("subscribe " + topic)
	server.waitFor("Client " + name + " subscribed to " + topic)
}
