package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/mqtt"
	"github.com/pubsubx/pubsubx/engines/registry"
)

// serverBin is the pubsubx-server binary built by TestMain.
var serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pubsubx-server-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "pubsubx-server")
	build := exec.Command("go", "build", "-race", "-o", serverBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building pubsubx-server:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// serverProcess is a running pubsubx-server with its stdout collected.
type serverProcess struct {
	cmd  *exec.Cmd
	addr string // 127.0.0.1:port
	port string
	out  *brokertest.LogBuffer
	done chan error
}

var listeningLine = regexp.MustCompile(`Listening on .*:(\d+) `)

// startServer runs the binary with args and port 0 and waits for it to say
// where it listens.
func startServer(t *testing.T, args ...string) *serverProcess {
	t.Helper()
	cmd := exec.Command(serverBin, append(args, "0")...)
	out := &brokertest.LogBuffer{}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, out: out, done: make(chan error, 1)}
	portc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			out.Write([]byte(line + "\n"))
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				portc <- m[1]
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("server output:\n%s", out.String())
		}
	})
	select {
	case p.port = <-portc:
	case <-time.After(brokertest.DefaultWait):
		t.Fatalf("server did not start; output:\n%s", out.String())
	}
	p.addr = "127.0.0.1:" + p.port
	if !strings.Contains(out.String(), "INFO: Server successfully started\n") {
		t.Errorf("no 'INFO: Server successfully started' line; output:\n%s", out.String())
	}
	return p
}

func (p *serverProcess) waitLog(t *testing.T, substr string) {
	t.Helper()
	deadline := time.Now().Add(brokertest.DefaultWait)
	for !strings.Contains(p.out.String(), substr) {
		if time.Now().After(deadline) {
			t.Fatalf("log line %q did not appear; output:\n%s", substr, p.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		exit     int
		contains string
	}{
		{[]string{"-h"}, 0, "Usage: pubsubx-server [flags] PORT"},
		{[]string{"-h"}, 0, "-grace duration"},
		{nil, 2, "expected exactly one argument, the PORT"},
		{[]string{"70000"}, 2, `invalid port "70000"`},
		{[]string{"-engine", "nope", "0"}, 1, `unknown engine "nope": available engines are ` + strings.Join(registry.Names(), ", ")},
		{[]string{"-acl", "/nonexistent/acl", "0"}, 1, "/nonexistent/acl"},
		{[]string{"-bogus", "1"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"-max-connections", "-1", "0"}, 2, "-max-connections -1: must not be negative"},
		{[]string{"-grace", "-5s", "0"}, 2, "-grace and -connect-timeout must not be negative"},
		{[]string{"-read-buffer", "1", "0"}, 2, "-read-buffer 1: at least 1024 bytes"},
		{[]string{"-engine", "netpoll", "-max-packet-size", "20000000", "0"}, 2, "-max-input-backlog 16777216: at least twice -max-packet-size (40000000)"},
		{[]string{"-max-packet-size", "300000000", "0"}, 2, "-max-packet-size 300000000: at most 268435460"},
		{[]string{"-max-inflight", "70000", "0"}, 2, "-max-inflight 70000: at most 65535"},
		{[]string{"-max-queued-total", "-1", "0"}, 2, "-max-queued-total -1: must not be negative"},
		{[]string{"-max-subscriptions", "-1", "0"}, 2, "-max-subscriptions -1: must not be negative"},
		{[]string{"-max-retained", "-1", "0"}, 2, "-max-retained -1: must not be negative"},
	} {
		var out bytes.Buffer
		cmd := exec.Command(serverBin, tc.args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.exit || !strings.Contains(out.String(), tc.contains) {
			t.Errorf("pubsubx-server %q: exit %d, output:\n%s\nwant exit %d and %q", tc.args, code, out.String(), tc.exit, tc.contains)
		}
	}
}

// TestSignalShutdown: SIGTERM sends MQTT 5 clients DISCONNECT 0x8B and the
// server exits 0.
func TestSignalShutdown(t *testing.T) {
	for _, engine := range registry.Names() {
		t.Run(engine, func(t *testing.T) {
			p := startServer(t, "-engine", engine)
			c := brokertest.Dial(t, p.addr, mqtt.V5)
			c.Connect("shutdown-test", true, nil)
			p.cmd.Process.Signal(syscall.SIGTERM)
			if reason := c.ExpectClosed(); reason != int(mqtt.ServerShuttingDown) {
				t.Errorf("DISCONNECT reason %#x, want 0x8B", reason)
			}
			select {
			case err := <-p.done:
				p.done <- err // for the cleanup
				if err != nil {
					t.Errorf("exit: %v", err)
				}
			case <-time.After(brokertest.DefaultWait):
				t.Fatal("server still running after SIGTERM")
			}
			p.waitLog(t, "INFO: Server stopped")
		})
	}
}

// mosquittoTool returns the path of a mosquitto client, skipping the test
// when it is missing unless PUBSUBX_REQUIRE_INTEROP is set (as in CI).
func mosquittoTool(t *testing.T, name string) string {
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("PUBSUBX_REQUIRE_INTEROP") != "" {
			t.Fatalf("%s not installed (apt-get install mosquitto-clients)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return path
}

// subscriber is a running mosquitto_sub.
type subscriber struct {
	cmd   *exec.Cmd
	lines chan string
	once  sync.Once
}

// startSub runs mosquitto_sub with args and waits until the broker logged
// its subscription.
func startSub(t *testing.T, p *serverProcess, id string, args ...string) *subscriber {
	t.Helper()
	bin := mosquittoTool(t, "mosquitto_sub")
	cmd := exec.Command(bin, append([]string{"-h", "127.0.0.1", "-p", p.port, "-i", id}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &subscriber{cmd: cmd, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	t.Cleanup(s.kill)
	p.waitLog(t, "Client "+id+" subscribed to ")
	return s
}

func (s *subscriber) kill() {
	s.once.Do(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	})
}

// expect reads the subscriber's next lines.
func (s *subscriber) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got, ok := <-s.lines:
			if !ok {
				t.Fatalf("mosquitto_sub ended; still expected %q", w)
			}
			if got != w {
				t.Fatalf("mosquitto_sub printed %q, want %q", got, w)
			}
		case <-time.After(brokertest.DefaultWait):
			t.Fatalf("mosquitto_sub printed nothing; want %q", w)
		}
	}
}

func pub(t *testing.T, p *serverProcess, args ...string) {
	t.Helper()
	bin := mosquittoTool(t, "mosquitto_pub")
	ctx, cancel := context.WithTimeout(context.Background(), brokertest.DefaultWait)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"-h", "127.0.0.1", "-p", p.port}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("mosquitto_pub %q: %v\n%s", args, err, out)
	}
}

// TestInteropMosquittoClients runs the real mosquitto_pub and mosquitto_sub
// against the server on every engine, in MQTT 3.1.1 and 5.
func TestInteropMosquittoClients(t *testing.T) {
	for _, engine := range registry.Names() {
		t.Run(engine, func(t *testing.T) {
			p := startServer(t, "-engine", engine)
			for _, subV := range []string{"mqttv311", "5"} {
				for _, pubV := range []string{"mqttv311", "5"} {
					for _, qos := range []string{"0", "1", "2"} {
						id := fmt.Sprintf("sub-%s-%s-%s", subV, pubV, qos)
						s := startSub(t, p, id, "-V", subV, "-q", qos, "-t", "interop/"+id, "-v")
						pub(t, p, "-V", pubV, "-q", qos, "-t", "interop/"+id, "-m", "hello "+id)
						s.expect(t, "interop/"+id+" hello "+id)
						s.kill()
					}
				}
			}
			// Retained: a new subscriber gets the last retained message.
			pub(t, p, "-V", "5", "-r", "-t", "interop/retained", "-m", "kept")
			s := startSub(t, p, "retained-reader", "-t", "interop/retained", "-v")
			s.expect(t, "interop/retained kept")
		})
	}
}

// TestInteropPersistentSession is the seed scenario with mosquitto_sub: a
// subscriber with a persistent session (-c -i NAME) is killed, messages are
// published meanwhile, and the same name gets them all, in order.
func TestInteropPersistentSession(t *testing.T) {
	for _, engine := range registry.Names() {
		for _, v := range [][]string{{"-V", "mqttv311"}, {"-V", "5", "-x", "60"}} {
			t.Run(engine+"/"+v[1], func(t *testing.T) {
				p := startServer(t, "-engine", engine)
				id := "homer-" + v[1]
				args := append(append([]string{}, v...), "-c", "-q", "1", "-t", "seed/news")
				s := startSub(t, p, id, args...)
				pub(t, p, "-t", "seed/news", "-q", "1", "-m", "before")
				s.expect(t, "before")
				s.cmd.Process.Signal(syscall.SIGKILL)
				s.kill()
				p.waitLog(t, "Client "+id)
				p.waitLog(t, "Session of "+id+" kept")
				for i := 1; i <= 5; i++ {
					qos := fmt.Sprint(i % 2)
					pub(t, p, "-t", "seed/news", "-q", qos, "-m", fmt.Sprintf("while away %d", i))
				}
				s2 := startSub(t, p, id, args...)
				s2.expect(t, "while away 1", "while away 2", "while away 3", "while away 4", "while away 5")
				p.waitLog(t, "Client "+id+" resumed its session with 5 queued messages")
			})
		}
	}
}

// TestMetrics: -metrics serves the counters as Prometheus text and JSON,
// and they move: a retained message beyond -max-retained is counted.
func TestMetrics(t *testing.T) {
	p := startServer(t, "-metrics", "127.0.0.1:0", "-max-retained", "1")
	p.waitLog(t, "Metrics on http://")
	url := regexp.MustCompile(`Metrics on (http://\S+)/metrics`).FindStringSubmatch(p.out.String())[1]
	pub(t, p, "-r", "-t", "metrics/a", "-m", "kept")
	pub(t, p, "-r", "-t", "metrics/b", "-m", "not kept")
	get := func(path string) string {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return string(body)
	}
	prom := get("/metrics")
	for _, want := range []string{
		`pubsubx_retained_messages{engine="` + registry.Default() + `"} 1`,
		`pubsubx_retained_not_kept_total{engine="` + registry.Default() + `"} 1`,
		`pubsubx_messages_received_total{engine="` + registry.Default() + `"} 2`,
		"# TYPE pubsubx_queued_bytes gauge", "# TYPE pubsubx_input_backlog_closed_total counter",
	} {
		if !strings.Contains(prom, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, prom)
		}
	}
	var st struct{ Retained, DroppedRetained int }
	if err := json.Unmarshal([]byte(get("/stats")), &st); err != nil || st.Retained != 1 || st.DroppedRetained != 1 {
		t.Errorf("/stats: %+v, %v; want 1 retained, 1 not kept", st, err)
	}
}
