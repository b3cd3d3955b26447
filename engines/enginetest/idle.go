package enginetest

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
)

var idleConns = flag.Int("idleconns", 5000,
	"connections of BenchmarkIdleConns (up to ~19000 under ulimit -n 20000)")

// idleServerEnv tells the child process of BenchmarkIdleConns which server
// to run: "engine" or "bare".
const idleServerEnv = "PUBSUBX_ENGINETEST_IDLE_SERVER"

// idleHello is what each client of BenchmarkIdleConns sends once, and gets
// back.
const idleHello = "hello"

// BenchmarkIdleConns measures what idle connections cost a server on an
// engine. The server runs in a child process, this test binary running the
// engine package's TestIdleConnsServer (which must call IdleConnsServer), so
// that its memory excludes the clients'. -idleconns clients connect,
// exchange one small message each (so every connection has been read and
// written once) and go quiet; the child reports its RSS and its Go heap and
// stacks in use, after garbage collection, before and after. Metrics per
// connection: rss-B/conn and heap+stack-B/conn.
//
// Sub-benchmark engine=<engine> serves with the engine; engine=bare with
// plain accepted sockets held by the child (the Go runtime's and the
// kernel's share, for comparison). Run it alone, once, without -race:
//
//	go test ./engines/epoll/ -run='^$' -bench=IdleConns -benchtime=1x -idleconns=19000
func BenchmarkIdleConns(b *testing.B, engine string) {
	for _, mode := range []string{"engine", "bare"} {
		name := "engine=" + engine
		if mode == "bare" {
			name = "engine=bare"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				measureIdleServer(b, mode, *idleConns)
			}
		})
	}
}

// IdleConnsServer is the server process of BenchmarkIdleConns; run alone it
// skips. An engine's test package that calls BenchmarkIdleConns defines
//
//	func TestIdleConnsServer(t *testing.T) { enginetest.IdleConnsServer(t, epoll.NewEngine) }
//
// The server prints its address, echoes what clients send, answers a
// connection that sends "M" with its memory in use, and exits when its stdin
// closes.
func IdleConnsServer(t *testing.T, newEngine func(engines.Options) (engines.Engine, error)) {
	mode := os.Getenv(idleServerEnv)
	if mode == "" {
		t.Skip("the server process of BenchmarkIdleConns")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if mode == "bare" {
		go serveBare(ln)
		fmt.Println(ln.Addr())
		io.Copy(io.Discard, os.Stdin)
		return
	}
	eng, err := newEngine(engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	go eng.Serve(ln, func(c engines.Conn) engines.Handler { return idleHandler{c} })
	fmt.Println(ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	eng.Shutdown(context.Background())
}

// idleHandler is the engine server's Handler: as small as a Handler gets, so
// that the measurement is the engine's.
type idleHandler struct{ c engines.Conn }

func (h idleHandler) OnData(p []byte) error {
	if len(p) == 1 && p[0] == 'M' {
		p = appendMemory(nil)
	}
	if _, err := h.c.Write(p); err != nil {
		return err
	}
	return h.c.Flush()
}

func (idleHandler) OnClose(error) {}

// serveBare serves ln without an engine: the first connection (the
// parent's control connection) gets a goroutine answering "M"; every other
// one is echoed idleHello once and then only held.
func serveBare(ln net.Listener) {
	var held []net.Conn
	for first := true; ; first = false {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if first {
			go func() {
				var m [1]byte
				for {
					if _, err := io.ReadFull(c, m[:]); err != nil {
						return
					}
					c.Write(appendMemory(nil))
				}
			}()
			continue
		}
		var buf [len(idleHello)]byte
		if _, err := io.ReadFull(c, buf[:]); err == nil {
			c.Write(buf[:])
		}
		held = append(held, c)
	}
}

// appendMemory appends the process's Go heap and stacks in use and its RSS,
// after garbage collection, as a line "heap rss\n".
func appendMemory(dst []byte) []byte {
	heap, rss := memoryInUse()
	return fmt.Appendf(dst, "%d %d\n", heap, rss)
}

// memoryInUse collects garbage (twice, so that freed stacks and dropped
// connections go) and returns the Go heap and stacks in use and the process's
// RSS (0 where /proc is missing).
func memoryInUse() (heapAndStacks, rss int64) {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapAndStacks = int64(ms.HeapInuse + ms.StackInuse)
	if statm, err := os.ReadFile("/proc/self/statm"); err == nil {
		if fields := strings.Fields(string(statm)); len(fields) > 1 {
			pages, _ := strconv.ParseInt(fields[1], 10, 64)
			rss = pages * int64(os.Getpagesize())
		}
	}
	return heapAndStacks, rss
}

// measureIdleServer starts the child server in mode, connects n idle
// clients to it and reports the memory they cost it.
func measureIdleServer(b *testing.B, mode string, n int) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleConnsServer$")
	cmd.Env = append(os.Environ(), idleServerEnv+"="+mode)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close() // the child exits when its stdin closes
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr := strings.TrimSpace(line)
	if _, _, splitErr := net.SplitHostPort(addr); err != nil || splitErr != nil {
		b.Fatalf("child printed %q, %v; want its address (does the engine's test package define TestIdleConnsServer?)", line, err)
	}
	control, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		b.Fatal(err)
	}
	defer control.Close()
	controlReader := bufio.NewReader(control)
	heap0, rss0 := childMemory(b, control, controlReader)

	clients := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for range n {
		c, err := net.DialTimeout("tcp", addr, Timeout)
		if err != nil {
			b.Fatalf("dial %d: %v", len(clients), err)
		}
		clients = append(clients, c)
		MustWrite(b, c, []byte(idleHello))
		MustRead(b, c, len(idleHello))
	}
	heap1, rss1 := childMemory(b, control, controlReader)
	b.ReportMetric(float64(rss1-rss0)/float64(n), "rss-B/conn")
	b.ReportMetric(float64(heap1-heap0)/float64(n), "heap+stack-B/conn")
	b.ReportMetric(float64(n), "conns")
}

// childMemory asks the child for its memory in use.
func childMemory(b *testing.B, control net.Conn, r *bufio.Reader) (heapAndStacks, rss int64) {
	MustWrite(b, control, []byte("M"))
	control.SetReadDeadline(time.Now().Add(Timeout))
	line, err := r.ReadString('\n')
	if err != nil {
		b.Fatalf("child memory: %v", err)
	}
	if _, err := fmt.Sscan(line, &heapAndStacks, &rss); err != nil {
		b.Fatalf("child memory %q: %v", line, err)
	}
	return heapAndStacks, rss
}
