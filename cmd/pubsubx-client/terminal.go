package main

import (
	"bufio"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
)

// prompt is printed before each command when the input is a terminal.
const prompt = "Enter command or (-h): "

// console is where commands come from and lines go to. Println is safe for
// concurrent use with ReadLine and with itself.
type console interface {
	// ReadLine returns the next command line without its end of line, or
	// io.EOF at the end of the input (Ctrl-D, Ctrl-C on a terminal).
	ReadLine() (string, error)
	// Println prints one line. On a terminal, a line being typed is moved
	// out of the way and redrawn below it, with its prompt.
	Println(s string)
	// Close restores the terminal.
	Close()
}

// newConsole returns a line-editing console with the prompt when stdin and
// stdout are both terminals, otherwise a plain one: commands are read line
// by line and no prompt is printed, so that output written to a pipe or
// file holds only the INFO, ERROR and message lines.
func newConsole(stdin *os.File, stdout io.Writer) console {
	out, isFile := stdout.(*os.File)
	if isFile && term.IsTerminal(int(stdin.Fd())) && term.IsTerminal(int(out.Fd())) {
		if c, err := newTerminalConsole(stdin, out); err == nil {
			return c
		}
	}
	return &plainConsole{in: bufio.NewReader(stdin), out: stdout}
}

// plainConsole reads lines from a pipe or file.
type plainConsole struct {
	in  *bufio.Reader
	mu  sync.Mutex
	out io.Writer
}

func (c *plainConsole) ReadLine() (string, error) {
	line, err := c.in.ReadString('\n')
	if err == io.EOF && line != "" {
		err = nil // the last line had no end of line; EOF comes next call
	}
	return strings.TrimRight(line, "\r\n"), err
}

func (c *plainConsole) Println(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	io.WriteString(c.out, s+"\n")
}

func (c *plainConsole) Close() {}

// terminalConsole edits the line in raw mode (golang.org/x/term): history
// with the arrow keys, and output that does not mangle the line being typed.
type terminalConsole struct {
	t       *term.Terminal
	out     io.Writer
	fd      int
	restore *term.State
}

func newTerminalConsole(stdin, stdout *os.File) (*terminalConsole, error) {
	fd := int(stdin.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, err
	}
	enableEscapes(stdout)
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{stdin, stdout}, prompt)
	if w, h, err := term.GetSize(int(stdout.Fd())); err == nil && w > 0 {
		t.SetSize(w, h)
	}
	return &terminalConsole{t: t, out: stdout, fd: fd, restore: state}, nil
}

func (c *terminalConsole) ReadLine() (string, error) {
	line, err := c.t.ReadLine()
	switch err {
	case term.ErrPasteIndicator:
		err = nil // a pasted line is a line
	case io.EOF:
		io.WriteString(c.out, "\r\n") // Ctrl-D or Ctrl-C: the shell's prompt starts on a line of its own
	}
	return line, err
}

func (c *terminalConsole) Println(s string) { c.t.Write([]byte(s + "\n")) }

func (c *terminalConsole) Close() { term.Restore(c.fd, c.restore) }
