//go:build linux

package epoll_test

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
	"github.com/pubsubx/pubsubx/engines/epoll"
)

var idleConns = flag.Int("idleconns", 5000,
	"connections of BenchmarkIdleConns (up to ~19000 under ulimit -n 20000)")

// idleServerEnv marks the child process of BenchmarkIdleConns.
const idleServerEnv = "PUBSUBX_EPOLL_IDLE_SERVER"

// BenchmarkIdleConns measures what idle connections cost the server: the
// server runs in a child process (this test binary, running
// TestIdleServerChild), so its memory excludes the clients. -idleconns
// clients connect, exchange one small message each and go quiet; the child
// reports its RSS and Go heap+stacks, after a GC, before and after. Run it
// alone and once:
//
//	go test ./engines/epoll/ -run='^$' -bench=IdleConns -benchtime=1x -idleconns=19000
func BenchmarkIdleConns(b *testing.B) {
	b.Run("engine=epoll", func(b *testing.B) {
		for range b.N {
			measureIdleServer(b, *idleConns)
		}
	})
}

func measureIdleServer(b *testing.B, n int) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleServerChild$")
	cmd.Env = append(os.Environ(), idleServerEnv+"=1")
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
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("child: %v", err)
	}
	addr = strings.TrimSpace(addr)
	control, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer control.Close()
	heap0, rss0 := childMemory(b, control)

	clients := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	buf := make([]byte, 5)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatalf("dial %d: %v", len(clients), err)
		}
		clients = append(clients, c)
		c.Write([]byte("hello"))
		readFull(b, c, buf)
	}
	heap1, rss1 := childMemory(b, control)
	b.ReportMetric(float64(rss1-rss0)/float64(n), "rss-B/conn")
	b.ReportMetric(float64(heap1-heap0)/float64(n), "heap+stack-B/conn")
	b.ReportMetric(float64(n), "conns")
}

// childMemory asks the child for its memory in use after a GC.
func childMemory(b *testing.B, control net.Conn) (heapAndStacks, rss int64) {
	control.Write([]byte("M"))
	control.SetReadDeadline(time.Now().Add(testTimeout))
	line, err := bufio.NewReader(control).ReadString('\n')
	if err != nil {
		b.Fatalf("child memory: %v", err)
	}
	if _, err := fmt.Sscan(line, &heapAndStacks, &rss); err != nil {
		b.Fatalf("child memory %q: %v", line, err)
	}
	return heapAndStacks, rss
}

// TestIdleServerChild is the server process of BenchmarkIdleConns: an echo
// server on the epoll engine that prints its address, answers "M" with its
// memory in use, and exits when its stdin closes. Run alone it skips.
func TestIdleServerChild(t *testing.T) {
	if os.Getenv(idleServerEnv) != "1" {
		t.Skip("the server process of BenchmarkIdleConns")
	}
	eng, err := epoll.NewEngine(engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go eng.Serve(ln, func(c engines.Conn) engines.Handler {
		return funcHandler{data: func(p []byte) error {
			if len(p) == 1 && p[0] == 'M' {
				heap, rss := memoryInUse()
				p = fmt.Appendf(nil, "%d %d\n", heap, rss)
			}
			c.Write(p)
			return c.Flush()
		}}
	})
	fmt.Println(ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	eng.Shutdown(context.Background())
}

// memoryInUse collects garbage (twice, so that freed stacks and the engine's
// dropped net.Conns go) and returns the Go heap and stacks in use and the
// process's RSS.
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
