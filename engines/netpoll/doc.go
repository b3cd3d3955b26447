//go:build linux

// Package netpoll is PubSubX's I/O engine on github.com/cloudwego/netpoll
// (v0.7.2): netpoll's EventLoop accepts and reads, its zero-copy Reader feeds
// the core, its Writer sends what the core queued. Linux only.
//
// # Threading model
//
// netpoll runs a fixed set of poller goroutines (ProcessConfig.Pollers), each
// with its own epoll instance; pollers read sockets into per-connection input
// buffers and finish writes that did not complete at once. Callbacks run
// elsewhere, in netpoll's runner (a goroutine pool):
//
//   - OnPrepare (poller goroutine, on accept, before the connection is
//     registered): the core's open is called here, so it precedes everything.
//   - OnConnect (runner, once registered): from now on the connection may be
//     written to.
//   - OnRequest (runner, one at a time per connection): input goes to OnData.
//   - the close callback (whichever goroutine closed the connection): OnClose
//     is started on a goroutine of its own, so a poller never waits for the
//     core.
//
// Output is written by a per-connection flusher goroutine, started on demand
// by Flush or Close when there is work and none runs, and ended when the
// queue is empty. Connections of different peers never wait for each other.
//
// # The netpoll traps and how this engine avoids them
//
//   - netpoll's Writer is not safe for concurrent use (cloudwego/netpoll#202,
//     #25). Conn.Write never touches it: it copies p into the connection's own
//     outbound queue of pooled 4 KiB chunks under a mutex. Only the flusher
//     uses the Writer (Malloc, copy, Flush), and at most one flusher runs per
//     connection.
//   - netpoll's Flush blocks its caller until the peer took every byte. It
//     runs only on the flusher, never on a publisher's goroutine: publishers
//     keep queueing while a flush waits, up to Options.MaxOutboundBytes
//     (Write then returns ErrOutboundFull, nothing queued). Each Flush carries
//     at most 256 KiB and has netpoll's write timeout (Settings.WriteTimeout);
//     on timeout netpoll stops watching the socket for writability and the
//     connection cannot be flushed again, so the engine closes it and OnClose
//     gets an error wrapping ErrWriteTimeout. Many Flush calls made while a
//     flusher works coalesce into its next netpoll Flush (one sendmsg).
//   - Using the Writer after the connection closed panics in v0.7.2: the
//     close callback frees the buffers (cloudwego/netpoll#207, fixed only
//     after v0.7.2 by #416). The flusher holds a write lock around every
//     Writer call and checks a dead flag under it; the close callback sets
//     that flag under the same lock before netpoll frees anything (netpoll
//     runs its own cleanup after user callbacks). netpoll wakes a blocked
//     Flush with an error before it runs close callbacks, so the callback
//     never waits long. Conn methods check a closed flag under the
//     connection's mutex and return ErrClosed.
//   - OnRequest must consume all available input or netpoll calls it again
//     in a loop. onRequest takes everything with Next(n <= Len()) and Release,
//     never asks for more than is there (Next would block the runner for a
//     half packet), and skips input of a closing connection.
//   - netpoll's ConvertListener takes the listener's descriptor through
//     File().Fd(), closes that descriptor twice, and watches a duplicate, so
//     it never notices that the caller closed the listener. The engine gives
//     netpoll its own listener instead (see listener): an acceptor goroutine
//     accepts with the net.Listener passed to Serve (any *net.TCPListener,
//     e.g. on 127.0.0.1:0), hands each socket over as a close-on-exec
//     duplicate and signals an eventfd that netpoll watches in place of the
//     listening socket. A failure or close of the caller's listener ends
//     Serve with that error.
//   - netpoll's EventLoop.Shutdown closes only connections it deems idle and
//     knows nothing of bytes queued outside its buffers; Shutdown therefore
//     drains and closes every connection itself before it stops the loop.
//   - netpoll's configuration (pollers, buffer size, runner) is process-wide
//     and must be set before its first connection: the first NewEngine sets
//     it once, later engines reuse it (Settings.Requested vs Process), and
//     Config returns it for result files.
//
// # Limitations left by netpoll
//
//   - A peer's half-close (shutdown of its write side) closes the whole
//     connection: netpoll treats EPOLLRDHUP as hang-up once the input is
//     read. Input that arrived before it is still delivered.
//   - OnClose gets io.EOF for every close netpoll saw first, a reset
//     included: its close callback carries no reason.
//   - netpoll cannot stop reading a socket (v0.7.2 has no read pause; see
//     cloudwego/netpoll#422): its pollers read whatever arrives into netpoll's
//     buffers while OnData runs, so a client that publishes faster than the
//     core routes gets no TCP back pressure, as it would on the epoll and
//     goroutine engines. The engine bounds the backlog instead: before each
//     OnData it checks the bytes read and not yet handled, and past
//     Options.MaxInputBacklog (16 MiB by default) it closes the connection
//     with engines.ErrInputBacklog (the core logs a WARN line and counts it). The
//     backlog can exceed the bound by what arrives during one OnData call.
//     OnData still gets at most Options.ReadBufferSize bytes per call.
//   - Each connection holds netpoll's connection state, its iovec arrays and
//     the last node of its output buffer; its first input buffer
//     (Options.ReadBufferSize bytes) is released after its first input. An
//     idle connection costs about 4.6 KiB (BenchmarkIdleConns), well above
//     the epoll engine's; ProcessConfig.LinkBufferCap keeps it from 8 KiB.
//   - Accepting costs more than netpoll's own path: Go's accept, a dup and a
//     close per connection, and an eventfd hop to a poller.
//   - Race builds only: netpoll finds an event's connection by descriptor
//     number, so an event in flight for a closing connection could hang up a
//     new connection that reuses the number; race builds hand netpoll
//     numbers in rotation to avoid it (fd_race.go).
//
// # Lifetimes
//
// The slice passed to OnData is netpoll's input buffer, valid until OnData
// returns (the engine then releases it). Conn.Write copies p before it
// returns. A Conn stays usable as a value forever: after close every method
// returns ErrClosed and RemoteAddr keeps its address. Queued bytes live in
// the connection until its socket took them or it closed.
package netpoll
