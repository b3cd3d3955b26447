//go:build linux

package netpoll

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/engines"
	"github.com/pubsubx/pubsubx/engines/enginetest"
)

// TestSlowSubscriber: a publisher goroutine fans records out to subscribers,
// one of which never reads. The publisher never blocks on it (netpoll's Flush
// would block it for good: the write timeout here is far beyond the test), the
// slow subscriber's Writes end in ErrOutboundFull, and every other subscriber
// gets every record, whole and in order. The publisher waits for room on the
// subscribers that read, as a core that drops nothing would.
func TestSlowSubscriber(t *testing.T) {
	const bound = 256 << 10
	s := serve(t, engines.Options{MaxOutboundBytes: bound}, time.Hour, enginetest.Handlers{})
	slowClient, slow := connect(t, s, 4096)
	const fast = 4
	clients := make([]net.Conn, fast)
	subs := make([]*enginetest.Peer, fast)
	for i := range subs {
		clients[i], subs[i] = s.Dial(t)
	}
	records := 20000
	if testing.Short() {
		records = 5000
	}
	received := make(chan error, fast)
	for _, c := range clients {
		go func() { received <- enginetest.NewRecordReader(c).Expect(records) }()
	}

	published := make(chan int, 1) // records the slow subscriber refused
	go func() {
		refused := 0
		var rec []byte
		for seq := range uint32(records) {
			rec = enginetest.AppendRecord(rec[:0], 1, seq, 500)
			if _, err := slow.Write(rec); errors.Is(err, engines.ErrOutboundFull) {
				refused++
			} else if err != nil {
				t.Errorf("Write to the slow subscriber: %v", err)
			}
			slow.Flush()
			for _, h := range subs { // they read: wait for room when ahead of them
				if err := writeWhenRoom(h, rec); err != nil {
					t.Errorf("Write to a reading subscriber: %v", err)
				}
			}
		}
		published <- refused
	}()
	select {
	case refused := <-published:
		if refused == 0 {
			t.Fatal("the slow subscriber never hit ErrOutboundFull")
		}
		t.Logf("slow subscriber refused %d of %d records", refused, records)
	case <-time.After(timeout):
		t.Fatal("the publisher blocked on the slow subscriber")
	}
	for range fast {
		if err := <-received; err != nil {
			t.Fatalf("reading subscriber: %v", err)
		}
	}
	// The slow subscriber still has its queue, whole records only.
	sc := slow.Conn.(*conn)
	sc.mu.Lock()
	queued := sc.out.size()
	sc.mu.Unlock()
	if queued > bound || queued%(enginetest.RecordHeaderLen+500) != 0 {
		t.Fatalf("slow subscriber queue holds %d bytes: over the bound or a partial record", queued)
	}
	slowClient.Close()
	slow.WaitClosed(t)
}

// TestWriteTimeout: a peer that stops reading with the socket full ends in a
// netpoll write timeout; the engine closes that connection (OnClose gets
// ErrWriteTimeout), never touches it again, and other connections carry on.
func TestWriteTimeout(t *testing.T) {
	s := serve(t, engines.Options{}, 200*time.Millisecond, enginetest.Handlers{Data: enginetest.Echo})
	_, stalled := connect(t, s, 4096)
	echoClient, _ := s.Dial(t)

	rec := make([]byte, 64<<10)
	deadline := time.Now().Add(timeout)
	for {
		_, err := stalled.Write(rec)
		if errors.Is(err, engines.ErrClosed) {
			break
		}
		if err != nil && !errors.Is(err, engines.ErrOutboundFull) {
			t.Fatalf("Write: %v", err)
		}
		if err := stalled.Flush(); err != nil && !errors.Is(err, engines.ErrClosed) {
			t.Fatalf("Flush: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("a peer that does not read was never timed out")
		}
		time.Sleep(time.Millisecond) // pace the writer; the timeout does the work
	}
	if err := stalled.WaitClosed(t); !errors.Is(err, ErrWriteTimeout) {
		t.Fatalf("OnClose(%v), want ErrWriteTimeout", err)
	}
	if _, err := stalled.Write(rec); !errors.Is(err, engines.ErrClosed) {
		t.Fatalf("Write after the timeout = %v, want ErrClosed", err)
	}

	msg := []byte("still serving")
	echoClient.SetDeadline(time.Now().Add(timeout))
	if _, err := echoClient.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(echoClient, got); err != nil || string(got) != string(msg) {
		t.Fatalf("echo on another connection: %q, %v", got, err)
	}
}

// TestManyWriters: 32 goroutines write records of up to 12 KiB (spanning
// chunks and netpoll hand-offs) to one connection; each record arrives whole
// and each goroutine's records in order.
func TestManyWriters(t *testing.T) {
	s := serve(t, engines.Options{}, DefaultWriteTimeout, enginetest.Handlers{})
	c, h := s.Dial(t)
	const writers = 32
	perWriter := 300
	if testing.Short() {
		perWriter = 60
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			var rec []byte
			for seq := range uint32(perWriter) {
				rec = enginetest.AppendRecord(rec[:0], byte(w), seq, rng.IntN(12<<10))
				if err := writeWhenRoom(h, rec); err != nil {
					t.Errorf("writer %d: Write: %v", w, err)
					return
				}
				if rng.IntN(4) == 0 {
					h.Flush()
				}
			}
			h.Flush()
		})
	}
	if err := enginetest.NewRecordReader(c).Expect(writers * perWriter); err != nil {
		t.Fatal(err)
	}
	enginetest.WaitGroup(t, &wg, "writers")
}

// TestCloseRacesWrites: Close (local, by the peer with a reset, or by
// Shutdown) races with Writes and Flushes from many goroutines. Nothing
// panics (netpoll's Writer panics if used after its close callback), every
// connection gets one OnClose, and calls after it return ErrClosed.
func TestCloseRacesWrites(t *testing.T) {
	for _, how := range []string{"local", "peer", "shutdown"} {
		t.Run(how, func(t *testing.T) {
			conns := 20
			if testing.Short() {
				conns = 5
			}
			const writersPerConn = 4
			s := serve(t, engines.Options{MaxOutboundBytes: 1 << 20}, DefaultWriteTimeout, enginetest.Handlers{})
			clients := make([]*net.TCPConn, conns)
			handlers := make([]*enginetest.Peer, conns)
			for i := range conns {
				clients[i], handlers[i] = s.Dial(t)
				go io.Copy(io.Discard, clients[i])
			}
			var writers, writing sync.WaitGroup
			var stop atomic.Bool
			for i, h := range handlers {
				for w := range writersPerConn {
					writing.Add(1)
					writers.Go(func() { hammer(h, &stop, uint64(i*writersPerConn+w), writing.Done) })
				}
			}
			enginetest.WaitGroup(t, &writing, "first writes")
			switch how {
			case "local":
				for _, h := range handlers {
					go h.Close()
				}
			case "peer":
				for _, c := range clients {
					c.SetLinger(0) // close with a reset
					go c.Close()
				}
			case "shutdown":
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				if err := s.Engine.Shutdown(ctx); err != nil {
					t.Fatalf("Shutdown: %v", err)
				}
			}
			for _, h := range handlers {
				h.WaitClosed(t)
				if _, err := h.Write([]byte("late")); !errors.Is(err, engines.ErrClosed) {
					t.Fatalf("Write after OnClose = %v, want ErrClosed", err)
				}
			}
			stop.Store(true)
			enginetest.WaitGroup(t, &writers, "writers")
		})
	}
}

// hammer writes and flushes to h until stop or ErrClosed, and calls wrote
// after its first Write returned.
func hammer(h *enginetest.Peer, stop *atomic.Bool, seed uint64, wrote func()) {
	first := sync.OnceFunc(wrote)
	defer first() // in case no Write came
	rng := rand.New(rand.NewPCG(seed, 2))
	buf := make([]byte, 16<<10)
	for !stop.Load() {
		_, err := h.Write(buf[:1+rng.IntN(len(buf))])
		first()
		switch {
		case errors.Is(err, engines.ErrClosed):
			return
		case errors.Is(err, engines.ErrOutboundFull):
			pause()
		}
		if err := h.Flush(); errors.Is(err, engines.ErrClosed) {
			return
		}
	}
}

// writeWhenRoom writes p to h and flushes, waiting while the queue is full.
func writeWhenRoom(h *enginetest.Peer, p []byte) error {
	for {
		_, err := h.Write(p)
		if !errors.Is(err, engines.ErrOutboundFull) {
			return errors.Join(err, h.Flush())
		}
		h.Flush()
		pause()
	}
}

// pause paces a writer whose queue is full, as a publisher waiting for input
// would be: a writer spinning on ErrOutboundFull on a 2-core machine starves
// the engine's own goroutines of CPU.
func pause() { time.Sleep(100 * time.Microsecond) }

// TestNoWriterUseAfterClose: the peer closes while a flusher holds a batch it
// has not handed to netpoll yet; netpoll's close callback runs and frees the
// Writer's buffers. The flusher must then not touch the Writer (netpoll v0.7.2
// panics on a nil buffer), and the connection ends with one OnClose(io.EOF).
func TestNoWriterUseAfterClose(t *testing.T) {
	s := serve(t, engines.Options{}, DefaultWriteTimeout, enginetest.Handlers{})
	client, h := s.Dial(t)
	target := h.Conn.(*conn)
	paused, resume := make(chan struct{}), make(chan struct{})
	hook := func(c *conn) {
		if c == target {
			close(paused)
			<-resume
		}
	}
	testHookHandOff.Store(&hook)
	t.Cleanup(func() { testHookHandOff.Store(nil) })

	if _, err := h.Write(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	h.Flush()
	<-paused
	client.Close()
	if err := h.WaitClosed(t); !errors.Is(err, io.EOF) {
		t.Fatalf("OnClose(%v), want io.EOF", err)
	}
	testHookHandOff.Store(nil)
	close(resume) // the flusher goes on with its batch
	deadline := time.Now().Add(timeout)
	for {
		target.mu.Lock()
		running := target.flushing
		target.mu.Unlock()
		if !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the flusher did not finish")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestInputBacklog: netpoll keeps reading a socket while the handler is busy,
// so a client can pile up input faster than it is handled. Here the handler
// blocks while the client writes 4 MiB (which netpoll takes in whole, the
// trap itself); once the handler returns, the engine sees the backlog over
// Options.MaxInputBacklog and closes the connection with ErrInputBacklog.
func TestInputBacklog(t *testing.T) {
	const backlog, flood = 256 << 10, 4 << 20
	written := make(chan error, 1)
	s := serve(t, engines.Options{MaxInputBacklog: backlog}, DefaultWriteTimeout, enginetest.Handlers{
		Data: func(p *enginetest.Peer, data []byte) error {
			select {
			case <-written: // the whole flood is in netpoll's buffers
			case <-time.After(timeout):
			}
			return nil
		},
	})
	client, peer := s.Dial(t)
	go func() {
		client.SetWriteDeadline(time.Now().Add(timeout))
		_, err := client.Write(make([]byte, flood))
		written <- err
		close(written)
	}()
	if err := peer.WaitClosed(t); !errors.Is(err, engines.ErrInputBacklog) {
		t.Fatalf("OnClose(%v), want ErrInputBacklog", err)
	}
}
