// Command pubsubx-client is PubSubX's interactive client: the seed's
// commands on top of the core/client library.
//
//	$ pubsubx-client
//	Enter command or (-h): connect 12000 homer
//	INFO: Connection successfully established
//	Enter command or (-h): subscribe news
//	Enter command or (-h): publish news hello world
//	[news] hello world
//
// Commands (case-insensitive): CONNECT [host:]port name, DISCONNECT,
// PUBLISH [-q 0|1|2] [-r] topic data..., SUBSCRIBE [-q 0|1|2] topic,
// UNSUBSCRIBE topic, -h, and EXIT, QUIT or Ctrl-D to leave. Mistakes get
// one "ERROR: ..." line and the prompt back.
//
// CONNECT speaks MQTT 5 with clean start 0 and a session expiry (-expiry,
// default 60 s, the server's default grace period): if the connection is
// lost, the server keeps the subscriptions and queues the messages, and a
// CONNECT with the same name within that time prints them, in order.
// DISCONNECT (and EXIT) send a DISCONNECT with session expiry 0, which ends
// the session at once.
//
// Two loops run, as in the seed: the main goroutine reads commands; the
// session loop owns the connection, runs the commands and prints incoming
// messages as they arrive.
//
// When stdin and stdout are terminals, the line is edited in raw mode
// (arrow keys, history) and a message arriving while you type is printed
// above the line being typed, which is redrawn with its prompt. Otherwise
// (stdin a pipe or file: scripted use) commands are read line by line and
// no prompt is printed, so stdout holds only the INFO, ERROR and
// "[topic] payload" lines, in order. The end of the input is EXIT. A
// scripted run exits with status 1 if it printed any ERROR line (a failed
// command, a lost connection).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process; it returns the exit code.
func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pubsubx-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var set settings
	fs.DurationVar(&set.expiry, "expiry", 60*time.Second, "how long the server keeps the session after a lost connection (MQTT 5 session expiry; the server may cap it)")
	fs.DurationVar(&set.keepAlive, "keepalive", 30*time.Second, "keep-alive interval: pings keep the connection up and detect a vanished server")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pubsubx-client [flags]\n\nThe PubSubX interactive client: type -h at the prompt for the commands.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}

	console := newConsole(stdin, stdout)
	defer console.Close()
	out := &errorCountingConsole{console: console}
	cmds := make(chan *command)
	s := &session{out: out, settings: set, cmds: cmds}
	ended := make(chan struct{})
	go func() {
		s.run()
		close(ended)
	}()
	readCommands(out, cmds)
	<-ended
	if _, scripted := console.(*plainConsole); scripted && out.errors.Load() > 0 {
		return 1 // a script learns that something failed
	}
	return 0
}

// errorCountingConsole counts the ERROR lines printed through it, for the
// exit code of scripted runs.
type errorCountingConsole struct {
	console
	errors atomic.Int64
}

// Println prints s and counts it if it is an ERROR line.
func (c *errorCountingConsole) Println(s string) {
	if strings.HasPrefix(s, "ERROR: ") {
		c.errors.Add(1)
	}
	c.console.Println(s)
}

// readCommands is the command loop: it reads lines, answers help and
// syntax errors itself, and hands every other command to the session loop,
// waiting until it has run so that its output comes before the next
// prompt. It returns after EXIT, which the end of the input implies.
func readCommands(out console, cmds chan<- *command) {
	for {
		line, err := out.ReadLine()
		if err != nil {
			cmds <- &command{op: opExit, done: make(chan struct{})}
			return
		}
		cmd, err := parseCommand(line)
		switch {
		case err != nil:
			out.Println("ERROR: " + err.Error())
			continue
		case cmd.op == opNone:
			continue
		case cmd.op == opHelp:
			out.Println(helpText)
			continue
		}
		cmd.done = make(chan struct{})
		cmds <- cmd
		<-cmd.done
		if cmd.op == opExit {
			return
		}
	}
}
