//go:build linux

// Package epoll is PubSubX's hand-written Linux I/O engine: event loops on
// epoll(7), written on golang.org/x/sys/unix, with no goroutine per
// connection. It implements the contract of package engines.
//
// # Threading model
//
// NewEngine creates Options.Loops event loops (default runtime.GOMAXPROCS(0)),
// each with its own epoll instance and eventfd, both close-on-exec. Serve
// starts one goroutine per loop and accepts on its own goroutine. A loop's
// goroutine is not locked to an OS thread: it blocks only in epoll_wait,
// where the Go runtime hands its P to other goroutines, and a locked thread
// would turn every hand-off between the loop and the rest of the program (the
// acceptor, the core's timers, Shutdown) into an OS thread switch, which
// costs most at GOMAXPROCS=1.
//
// Every connection belongs to one loop, the one with the fewest connections
// when it was accepted (ties go round-robin). All of its callbacks run on
// that loop's goroutine: open, then OnData, then OnClose, so they never
// overlap for one connection, while different loops run in parallel. A
// callback that blocks stalls every connection of its loop.
//
// # Accepting, and who owns a descriptor
//
// Serve accepts with ln.Accept on its goroutine, duplicates the socket
// through SyscallConn().Control (F_DUPFD_CLOEXEC), sets the duplicate
// non-blocking and TCP_NODELAY, and closes the net.Conn, whose descriptor
// Go's poller unregisters. Accepting through the listener rather than
// calling accept4 on its descriptor keeps the listener wholly owned by the
// Go runtime and the caller: the engine never holds the listener's
// descriptor number, so closing ln can never leave a loop accepting on a
// reused number, and any net.Listener whose connections expose a socket
// works. The cost, one dup and a poller registration per connection, is
// small next to an MQTT handshake.
//
// From then on the duplicate belongs to its loop alone: only the loop's
// goroutine reads, writes, registers, unregisters and closes it, and it is
// removed from epoll before it is closed. Other goroutines never see the
// number, so a Write or Flush racing a close can never reach a descriptor
// the kernel has given to someone else.
//
// # Reads
//
// Epoll is level-triggered, with EPOLLIN|EPOLLRDHUP. On each readiness event
// the loop does one read into its single read buffer
// (Options.ReadBufferSize, default 64 KiB) and passes the bytes to OnData;
// level triggering brings it back while more remain, which keeps loops fair.
// The engine keeps nothing per connection for reads; the core keeps the
// bytes of a partial packet.
//
// # Writes and the flush path
//
// Write copies into the connection's outbound queue, a list of pooled 4 KiB
// chunks, under a small per-connection mutex, bounded by
// Options.MaxOutboundBytes (ErrOutboundFull, nothing queued). Flush puts the
// connection on its loop's pending list, once however often it is called
// until the loop gets to it, and wakes the loop only when needed: each loop
// has an awake flag, true from the return of epoll_wait until it decides to
// block again, and a wake-up writes the eventfd only when it turns the flag
// from false to true. So Flush from the loop's own callbacks (fan-out among
// its connections) writes no eventfd at all, and many Flush calls from
// other loops while it sleeps cost one eventfd write. Before blocking the
// loop clears the flag and looks at the list again, so no Flush is missed.
//
// At the end of each event batch the loop writes every pending connection
// with one writev of its queued chunks, releasing the connection's mutex
// during the system call. A partial write keeps the rest and arms EPOLLOUT;
// EPOLLOUT is disarmed when the queue drains. Written chunks go back to a
// sync.Pool, so steady-state fan-out allocates nothing per message.
//
// # Closing and lifetimes
//
// Close marks the connection closed at once (Write, Flush and Close then
// return ErrClosed) and queues it on its loop, which writes what is queued
// as far as the socket takes it without blocking, unregisters and closes
// the descriptor, returns the chunks and calls OnClose(nil), last. A peer's
// orderly close ends in OnClose(io.EOF); a reset, EPOLLERR or other socket
// error in OnClose with the error, wrapped in an *os.SyscallError; a non-nil
// error from OnData closes the connection with that error, after writing
// what the handler queued. An idle connection holds only its small conn
// struct (no buffers: its chunk list is nil) and its loop's map entry.
//
// Shutdown closes the listener, stops reading every connection, writes each
// one's queue as its peer takes it and closes it when empty, and returns
// when every loop has exited and released its epoll instance and eventfd.
// When its context ends first, the remaining connections are closed at
// once.
package epoll
