package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// terminal is pubsubx-client running under a pseudo-terminal, as a user
// would type into it.
type terminal struct {
	t    *testing.T
	ptmx *os.File
	cmd  *exec.Cmd
	done chan struct{}

	mu   sync.Mutex
	out  bytes.Buffer // everything the program wrote, escape sequences included
	seen int          // offset up to which expectOutput has consumed out
}

func startTerminal(t *testing.T) *terminal {
	cmd := exec.Command(clientBin)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 120})
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	term := &terminal{t: t, ptmx: ptmx, cmd: cmd, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				break
			}
		}
		cmd.Wait()
		close(term.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		ptmx.Close()
		<-term.done
	})
	return term
}

// typeKeys sends keystrokes.
func (term *terminal) typeKeys(s string) {
	term.t.Helper()
	if _, err := io.WriteString(term.ptmx, s); err != nil {
		term.t.Fatal(err)
	}
}

// expectOutput waits until the output after what was consumed contains
// want, consumes it, and returns the output in between.
func (term *terminal) expectOutput(want string) string {
	term.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		term.mu.Lock()
		rest := term.out.String()[term.seen:]
		if i := strings.Index(rest, want); i >= 0 {
			term.seen += i + len(want)
			term.mu.Unlock()
			return rest[:i]
		}
		term.mu.Unlock()
		if time.Now().After(deadline) {
			term.t.Fatalf("terminal: %q did not appear within %v; output after the last match: %q", want, wait, rest)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTerminal drives the client under a pseudo-terminal: the prompt, a
// message arriving while a line is half typed (the line is moved out of
// the way and redrawn with its prompt, and typing continues), and Ctrl-D.
func TestTerminal(t *testing.T) {
	server, port := startServer(t)
	term := startTerminal(t)
	term.expectOutput(prompt)
	term.typeKeys("connect " + port + " tty\r")
	term.expectOutput("INFO: Connection successfully established")
	term.expectOutput(prompt)
	term.typeKeys("subscribe news\r")
	server.waitFor("Client tty subscribed to news")
	term.expectOutput(prompt)

	term.typeKeys("publ") // half a command, then a message arrives
	term.expectOutput("publ")
	bart := startClient(t, "bart")
	bart.connect(port, "bart")
	bart.send("publish news from bart")
	before := term.expectOutput("[news] from bart\r\n")
	if !strings.Contains(before, "\x1b[K") {
		t.Errorf("the half-typed line was not erased before the message: %q", before)
	}
	if between := term.expectOutput(prompt + "publ"); strings.TrimSpace(between) != "" {
		t.Errorf("unexpected output before the redrawn prompt: %q", between)
	}

	term.typeKeys("ish news typed on\r") // the line goes on where it was
	term.expectOutput("[news] typed on\r\n")
	term.expectOutput(prompt)
	term.typeKeys("bogus\r")
	term.expectOutput("ERROR: unknown command \"bogus\" (-h lists the commands)\r\n")
	term.expectOutput(prompt)

	term.typeKeys("\x04") // Ctrl-D: leave, ending the session
	select {
	case <-term.done:
	case <-time.After(wait):
		t.Fatal("Ctrl-D did not end the client")
	}
	if code := term.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d", code)
	}
	server.waitFor("Client tty (")
}
