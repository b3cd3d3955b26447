//go:build linux

package epoll_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/enginetest"
	"github.com/pubsubx/pubsubx/engines/epoll"
)

// 5,000 connections at once (10,000 descriptors in this process, under
// the machine's ulimit -n of 20,000), spread over the loops, each echoing,
// then all closed by their peers.
func TestFiveThousandConnections(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 500
	}
	const loops = 4
	s := serve(t, engines.Options{Loops: loops}, enginetest.Handlers{Data: enginetest.Echo})
	clients := make([]net.Conn, n)
	peers := make([]*enginetest.Peer, n)
	perLoop := make([]int, loops)
	for i := range clients {
		clients[i], peers[i] = s.Dial(t)
		perLoop[epoll.LoopOf(peers[i].Conn)]++
	}
	for i, k := range perLoop {
		if k < n/loops-1 || k > n/loops+1 {
			t.Errorf("loop %d has %d connections, want %d (least-loaded)", i, k, n/loops)
		}
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			buf := make([]byte, 8)
			for i := w; i < n; i += 16 {
				nc := clients[i]
				if _, err := nc.Write(pattern(i, 8)); err != nil {
					t.Errorf("client %d write: %v", i, err)
					return
				}
				nc.SetReadDeadline(time.Now().Add(enginetest.Timeout))
				if _, err := io.ReadFull(nc, buf); err != nil {
					t.Errorf("client %d echo: %v", i, err)
					return
				}
				checkPattern(t, buf, i)
			}
		})
	}
	wg.Wait()
	for _, nc := range clients {
		nc.Close()
	}
	for _, p := range peers {
		if err := p.WaitClosed(t); err != io.EOF {
			t.Fatalf("OnClose(%v), want io.EOF", err)
		}
	}
}

// Close races Write and Flush from many goroutines while some peers hang up:
// no panic, no error but ErrClosed or ErrOutboundFull, OnClose exactly once
// per connection (the enginetest.Server checks), and nothing written to an
// old Conn ever reaches a new connection that reuses its descriptor number.
func TestCloseRacesWritesAndFlushes(t *testing.T) {
	const nconns, writers = 40, 8
	s := serve(t, engines.Options{Loops: 2, MaxOutboundBytes: 64 << 10}, enginetest.Handlers{})
	var clients []net.Conn
	var conns []*enginetest.Peer
	for range nconns {
		nc, sc := s.Dial(t)
		clients, conns = append(clients, nc), append(conns, sc)
		go io.Copy(io.Discard, nc) // read until the server closes
	}

	var live atomic.Int32
	live.Store(writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			defer live.Add(-1)
			msg := pattern(w, 64)
			for {
				open := 0
				for _, c := range conns {
					_, werr := c.Write(msg)
					ferr := c.Flush()
					if werr != nil && !errors.Is(werr, engines.ErrClosed) && !errors.Is(werr, engines.ErrOutboundFull) {
						t.Errorf("Write: %v", werr)
					}
					if ferr != nil && !errors.Is(ferr, engines.ErrClosed) {
						t.Errorf("Flush: %v", ferr)
					}
					if !errors.Is(werr, engines.ErrClosed) {
						open++
					}
				}
				if open == 0 {
					return
				}
			}
		})
	}
	// Close from both sides while the writers run: even conns by Close, odd
	// ones by their peer, some twice.
	for i := range nconns {
		if i%2 == 0 {
			conns[i].Close()
			conns[i].Close()
		} else {
			clients[i].Close()
		}
	}
	wg.Wait()

	for i, c := range conns {
		c.WaitClosed(t)
		if _, err := c.Write([]byte("x")); !errors.Is(err, engines.ErrClosed) {
			t.Errorf("conn %d: Write after OnClose: %v", i, err)
		}
	}

	// New connections likely reuse the closed descriptors' numbers. Stale
	// Conns must not reach them: the first bytes a new client sees are the
	// ones written to its own Conn.
	var fresh []net.Conn
	var freshConns []*enginetest.Peer
	for range 10 {
		nc, sc := s.Dial(t)
		fresh, freshConns = append(fresh, nc), append(freshConns, sc)
	}
	for _, c := range conns {
		c.Write([]byte("stale"))
		c.Flush()
	}
	for i, sc := range freshConns {
		sc.Write([]byte("mine"))
		sc.Flush()
		if buf := enginetest.MustRead(t, fresh[i], 4); string(buf) != "mine" {
			t.Errorf("new connection %d first read %q, want \"mine\"", i, buf)
		}
	}
}

// Shutdown with connections open writes out what each has queued, closes
// them all with OnClose(nil) before it returns, and stops accepting.
func TestShutdownFlushesAndClosesOpenConnections(t *testing.T) {
	const nconns, queued = 50, 100 << 10
	s := serve(t, engines.Options{Loops: 3}, enginetest.Handlers{})
	var clients []net.Conn
	var conns []*enginetest.Peer
	for i := range nconns {
		nc, sc := s.Dial(t)
		clients, conns = append(clients, nc), append(conns, sc)
		if i%5 != 0 { // some stay idle with nothing queued
			sc.Write(pattern(0, queued)) // queued, not flushed
		}
	}
	var wg sync.WaitGroup
	for i, nc := range clients {
		wg.Go(func() {
			nc.SetReadDeadline(time.Now().Add(enginetest.Timeout))
			got, err := io.ReadAll(nc)
			if err != nil {
				t.Errorf("client %d: %v", i, err)
			}
			want := queued
			if i%5 == 0 {
				want = 0
			}
			if len(got) != want {
				t.Errorf("client %d got %d bytes before EOF, want %d", i, len(got), want)
			}
			checkPattern(t, got, 0)
		})
	}
	if err := s.Shutdown(t, enginetest.Timeout); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for i, c := range conns {
		select {
		case <-c.Closed():
		default:
			t.Errorf("conn %d: Shutdown returned before its OnClose", i)
			continue
		}
		if err := c.WaitClosed(t); err != nil {
			t.Errorf("OnClose(%v) during Shutdown, want nil", err)
		}
	}
	wg.Wait()
	for _, c := range conns {
		if _, err := c.Write([]byte("x")); !errors.Is(err, engines.ErrClosed) {
			t.Errorf("Write after Shutdown: %v", err)
		}
	}
	if nc, err := net.Dial("tcp", s.Addr); err == nil {
		nc.Close()
		t.Error("listener still accepting after Shutdown")
	}
}

// A peer that never reads cannot hold Shutdown beyond its context: the rest
// close normally, the stuck one with OnClose(ctx.Err()).
func TestShutdownDeadlineClosesStuckConnections(t *testing.T) {
	s := serve(t, engines.Options{Loops: 1}, enginetest.Handlers{})
	_, stuck := s.Dial(t)
	_, idle := s.Dial(t)
	block := make([]byte, 64<<10)
	for { // fill the 8 MiB queue
		if _, err := stuck.Write(block); err != nil {
			break
		}
	}
	stuck.Flush()
	if err := s.Shutdown(t, 200*time.Millisecond); err != context.DeadlineExceeded {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if err := idle.WaitClosed(t); err != nil {
		t.Errorf("idle conn: OnClose(%v), want nil", err)
	}
	if err := stuck.WaitClosed(t); err != context.DeadlineExceeded {
		t.Errorf("stuck conn: OnClose(%v), want DeadlineExceeded", err)
	}
}
