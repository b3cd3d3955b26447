package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTwoClientsExchange is the seed's session: two prompts, messages both
// ways, a client receiving its own publish, commands in any case.
func TestTwoClientsExchange(t *testing.T) {
	server, port := startServer(t)
	homer, marge := startClient(t, "homer"), startClient(t, "marge")
	homer.connect(port, "homer")
	marge.send("CoNnEcT localhost:" + port + " marge")
	marge.expect("INFO: Connection successfully established")

	homer.subscribe(server, "homer", "news")
	marge.subscribe(server, "marge", "family/+")
	marge.send("publish news hello   from marge")
	homer.expect("[news] hello   from marge") // the rest of the line, spacing kept
	homer.send("PUBLISH family/dinner donuts?")
	marge.expect("[family/dinner] donuts?")
	homer.send("publish news hello world")
	homer.expect("[news] hello world")

	homer.send("unsubscribe news")
	server.waitFor("Client homer unsubscribed from news")
	homer.send("publish news nobody listens")
	homer.send("publish -q 0 -r family/dinner pork chops") // QoS 0, retained
	marge.expect("[family/dinner] pork chops")
	for _, p := range []*proc{homer, marge} {
		p.send("disconnect")
		server.waitFor(") disconnected")
		p.send("exit")
		p.expectExit()
	}
}

// TestLostClientScenario is the seed's lost client end to end: a
// subscriber's process is killed, messages are published meanwhile, and a
// new process connecting with the same name prints them all, in order.
func TestLostClientScenario(t *testing.T) {
	server, port := startServer(t, "-grace", "60s")
	homer := startClient(t, "homer")
	homer.connect(port, "homer")
	homer.subscribe(server, "homer", "news")
	if err := homer.cmd.Process.Kill(); err != nil { // SIGKILL: no DISCONNECT, nothing
		t.Fatal(err)
	}
	server.waitFor("Session of homer kept")

	bart := startClient(t, "bart")
	bart.connect(port, "bart")
	bart.subscribe(server, "bart", "news")
	for i := 1; i <= 5; i++ {
		bart.send(fmt.Sprintf("publish news item %d", i))
	}
	for i := 1; i <= 5; i++ { // routed: bart receives them too
		bart.expect(fmt.Sprintf("[news] item %d", i))
	}

	again := startClient(t, "homer again")
	again.connect(port, "homer")
	again.expect("INFO: Session resumed: its subscriptions are back, and what arrived while you were away follows")
	for i := 1; i <= 5; i++ {
		again.expect(fmt.Sprintf("[news] item %d", i))
	}
	server.waitFor("Client homer resumed its session with 5 queued messages")
	bart.send("publish news live")
	bart.expect("[news] live")
	again.expect("[news] live") // the subscription came back with the session
}

// TestDisconnectEndsSession: after DISCONNECT the server forgets the
// subscriptions, so a reconnection receives nothing published meanwhile.
func TestDisconnectEndsSession(t *testing.T) {
	server, port := startServer(t)
	lisa := startClient(t, "lisa")
	lisa.connect(port, "lisa")
	lisa.subscribe(server, "lisa", "news")
	lisa.send("disconnect")
	// The broker closes the socket before it ends the session: wait for
	// its log line, so that this tests the DISCONNECT and not that race.
	server.waitFor(") disconnected")
	lisa.send("connect " + port + " lisa")
	lisa.expect("INFO: Connection successfully established")
	lisa.send("publish news anybody?")
	lisa.send("subscribe marker")
	lisa.send("publish marker end")
	lisa.expect("[marker] end") // "news" was not resubscribed: nothing before the marker
}

func TestHelp(t *testing.T) {
	c := startClient(t, "c")
	c.send("-h")
	c.expect(strings.Split(helpText, "\n")...)
	for _, cmd := range []string{"CONNECT [host:]port name", "DISCONNECT", "PUBLISH", "SUBSCRIBE", "UNSUBSCRIBE", "-h", "EXIT, QUIT or Ctrl-D"} {
		if !strings.Contains(helpText, "  "+cmd) {
			t.Errorf("help does not list %s", cmd)
		}
	}
	c.send("quit")
	c.expectExit()
}

// TestErrors checks each mistake's one-line ERROR, and that the client
// carries on after it.
func TestErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closedPort, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close() // nothing listens there any more

	c := startClient(t, "c")
	for _, tc := range []struct{ in, want string }{
		{"frobnicate", `ERROR: unknown command "frobnicate" (-h lists the commands)`},
		{"connect", "ERROR: missing argument: usage: CONNECT [host:]port name"},
		{"connect 12000", "ERROR: missing argument: usage: CONNECT [host:]port name"},
		{"connect 12000 a b", "ERROR: too many arguments: usage: CONNECT [host:]port name"},
		{"connect port12 a", `ERROR: invalid port "port12": want a number from 1 to 65535`},
		{"connect :70000 a", `ERROR: invalid port "70000": want a number from 1 to 65535`},
		{"publish", "ERROR: missing argument: usage: PUBLISH [-q 0|1|2] [-r] topic data..."},
		{"publish news", "ERROR: missing argument: usage: PUBLISH [-q 0|1|2] [-r] topic data..."},
		{"publish -q 3 news x", `ERROR: invalid QoS "3": want -q 0, 1 or 2`},
		{"subscribe -q", "ERROR: missing argument: -q wants 0, 1 or 2: usage: SUBSCRIBE [-q 0|1|2] topic"},
		{"publish -x news x", `ERROR: unknown option "-x": usage: PUBLISH [-q 0|1|2] [-r] topic data...`},
		{"publish news/# x", `ERROR: invalid topic "news/#": wildcards are for SUBSCRIBE`},
		{"subscribe", "ERROR: missing argument: usage: SUBSCRIBE [-q 0|1|2] topic"},
		{"unsubscribe", "ERROR: missing argument: usage: UNSUBSCRIBE topic"},
		{"disconnect now", "ERROR: too many arguments: usage: DISCONNECT"},
		{"publish news hello", "ERROR: not connected: use CONNECT [host:]port name first"},
		{"subscribe news", "ERROR: not connected: use CONNECT [host:]port name first"},
		{"unsubscribe news", "ERROR: not connected: use CONNECT [host:]port name first"},
		{"disconnect", "ERROR: not connected: use CONNECT [host:]port name first"},
		{"connect 127.0.0.1:" + closedPort + " a", "ERROR: server unreachable at 127.0.0.1:" + closedPort + ": connect: connection refused"},
	} {
		c.send(tc.in)
		c.expect(tc.want)
	}

	server, port := startServer(t)
	c.connect(port, "c")
	c.send("connect " + port + " c")
	c.expect("ERROR: already connected as c: DISCONNECT first")
	c.send("subscribe a/#/b")
	c.expect("ERROR: subscribe to a/#/b: invalid topic filter")

	// Connection lost: the server goes away; the client says so, and
	// CONNECT works again with a new server.
	server.cmd.Process.Kill()
	c.expect("ERROR: connection lost: closed by the server; use CONNECT to connect again")
	c.send("publish news hello")
	c.expect("ERROR: not connected: use CONNECT [host:]port name first")
	_, port = startServer(t)
	c.connect(port, "c")

	// A server shutting down says why.
	server, port = startServer(t)
	d := startClient(t, "d")
	d.connect(port, "d")
	server.cmd.Process.Signal(os.Interrupt)
	d.expect("ERROR: connection lost: server sent DISCONNECT: server shutting down (0x8b); use CONNECT to connect again")
}

// TestScriptedInput feeds commands from a file: no prompt, only the INFO,
// ERROR and message lines, and the end of the file ends the program, with
// exit status 1 because a command failed.
func TestScriptedInput(t *testing.T) {
	server, port := startServer(t)
	script := filepath.Join(t.TempDir(), "script.txt")
	body := "connect " + port + " scripted\nsubscribe t\nnonsense\n-h\ndisconnect" // no final newline
	if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(script)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(clientBin)
	cmd.Stdin = f
	p := runProc(t, "scripted", cmd)
	p.expect("INFO: Connection successfully established", `ERROR: unknown command "nonsense" (-h lists the commands)`)
	p.expect(strings.Split(helpText, "\n")...)
	p.expectExitCode(1)
	server.waitFor("Client scripted subscribed to t")
}
