package acl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The interop tests run a real mosquitto (2.0 or later) with the testdata
// files and check that it answers every expectation as this package does:
// publish checks by the reason code of a QoS 1 PUBACK, subscribe checks by
// the SUBACK, receive checks by what a subscriber is delivered. They are
// skipped when mosquitto is not installed.

// interopPublisher is the user that publishes the messages of receive
// checks; a section granting it write access is appended to the file
// mosquitto loads (this package parses the file as it is).
const interopPublisher = "interop-publisher"

// ioTimeout bounds every network step; generous for a loaded CI machine.
const ioTimeout = 10 * time.Second

func TestMosquittoInterop(t *testing.T) {
	bin := mosquittoBinary(t)
	for _, file := range testdataFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			exps := readExpectations(t, file)
			a, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			addr := startMosquitto(t, bin, file, publisherSection(exps))
			for _, e := range exps {
				if ours := e.check(a); ours != e.allow {
					t.Fatalf("%v: package answers %v, expectation %v (see TestTestdata)", e, ours, e.allow)
				}
			}
			checkRequests(t, addr, exps)
			checkDeliveries(t, addr, exps)
		})
	}
}

// TestMosquittoRefusesBadFiles checks that mosquitto refuses to start with
// each file Parse refuses. It fails at the acl file, before it would open
// its listener; were it to start, the timeout stops it and the test fails.
func TestMosquittoRefusesBadFiles(t *testing.T) {
	bin := mosquittoBinary(t)
	for file := range badFiles {
		dir := t.TempDir()
		conf := writeConf(t, dir, 18999, copyACL(t, dir, file, ""))
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		out, err := exec.CommandContext(ctx, bin, "-c", conf).CombinedOutput()
		cancel()
		if err == nil || !bytes.Contains(out, []byte("acl_file")) {
			t.Errorf("mosquitto with %s: exit %v, output %q; want an error", file, err, out)
		}
	}
}

// mosquittoBinary returns the path of mosquitto 2.x or later, or skips the
// test: mosquitto 1.x decides differently (no "deny", other $SYS rules).
func mosquittoBinary(t *testing.T) string {
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		t.Skip("mosquitto is not installed")
	}
	out, _ := exec.Command(bin, "-h").CombinedOutput() // exits non-zero after printing usage
	_, version, ok := strings.Cut(string(out), "mosquitto version ")
	if !ok || version == "" || version[0] < '2' || version[0] > '9' {
		t.Skipf("mosquitto 2.0 or later needed; %s -h says %.60q", bin, out)
	}
	return bin
}

// publisherSection returns the acl lines that let interopPublisher publish
// the topics of the receive expectations.
func publisherSection(exps []expectation) string {
	var b strings.Builder
	b.WriteString("\nuser " + interopPublisher + "\n")
	for _, e := range exps {
		if e.op == "recv" {
			b.WriteString("topic write " + e.topic + "\n")
		}
	}
	return b.String()
}

// copyACL writes the acl file src plus extra into dir and returns its path.
func copyACL(t *testing.T, dir, src, extra string) string {
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "test.acl")
	if err := os.WriteFile(path, append(data, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeConf writes a mosquitto.conf for a loopback listener on port using
// the acl file and returns its path.
func writeConf(t *testing.T, dir string, port int, aclPath string) string {
	conf := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nacl_file %s\nlog_dest stderr\n", port, aclPath)
	if os.Geteuid() == 0 {
		// Run as root, mosquitto drops to user "mosquitto" before reading
		// the acl file, which it then cannot reach in the private TempDir.
		conf = "user root\n" + conf
	}
	path := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startMosquitto runs mosquitto with the acl file plus extra on a free
// loopback port in 18000-18998 and returns its address. It is stopped when
// the test ends.
func startMosquitto(t *testing.T, bin, aclFile, extra string) string {
	dir := t.TempDir()
	aclPath := copyACL(t, dir, aclFile, extra)
	first := 18000 + os.Getpid()%900
	for port := first; port < first+99; port++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		cmd := exec.Command(bin, "-c", writeConf(t, dir, port, aclPath))
		var log bytes.Buffer
		cmd.Stderr = &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() {
			cmd.Wait()
			close(exited)
		}()
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if waitListening(addr, exited) {
			t.Cleanup(func() {
				cmd.Process.Kill()
				<-exited
				if t.Failed() {
					t.Logf("mosquitto log:\n%s", log.String())
				}
			})
			return addr
		}
		cmd.Process.Kill()
		<-exited
		t.Logf("mosquitto on port %d did not start: %s", port, log.String())
	}
	t.Fatal("no free port for mosquitto")
	return ""
}

// waitListening polls addr until it accepts a connection; false if the
// process exits or ioTimeout passes first.
func waitListening(addr string, exited <-chan struct{}) bool {
	deadline := time.Now().Add(ioTimeout)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return true
		}
		select {
		case <-exited:
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false
}

// checkRequests checks the pub expectations and the sub ones that allow,
// one connection each:
// a publish by the reason code of its QoS 1 PUBACK, a subscription by its
// SUBACK. A refusal must be 0x87 Not authorized.
func checkRequests(t *testing.T, addr string, exps []expectation) {
	for _, e := range exps {
		if e.op != "pub" && e.op != "sub" {
			continue
		}
		if e.op == "sub" && !e.allow {
			continue // PubSubX refuses useless subscriptions that mosquitto grants (see subscribe.go)
		}
		c := dialMQTT(t, addr, e.clientID, e.username, e.hasUsername)
		var reason byte
		var err error
		if e.op == "pub" {
			reason, err = c.publish(e.topic)
		} else {
			var reasons []byte
			if reasons, err = c.subscribe(e.topic); err == nil {
				reason = reasons[0]
			}
		}
		c.close()
		if err != nil {
			t.Fatalf("%v: %v", e, err)
		}
		allowed := reason < 0x80
		if allowed != e.allow || !allowed && reason != 0x87 {
			t.Errorf("%v: mosquitto answers reason %#x, want allow=%v", e, reason, e.allow)
		}
	}
}

// checkDeliveries checks the recv expectations of each client identity in
// turn: the client subscribes to "#" and to each topic (for '$' topics,
// which "#" does not match), interopPublisher publishes to
// each (except "$SYS" topics, whose retained messages mosquitto itself
// delivers on subscription), and a PINGREQ round trip, which mosquitto
// answers after everything it queued before, closes the collection.
func checkDeliveries(t *testing.T, addr string, exps []expectation) {
	type identity struct {
		clientID, username string
		hasUsername        bool
	}
	byClient := make(map[identity][]expectation)
	var order []identity
	for _, e := range exps {
		if e.op != "recv" {
			continue
		}
		id := identity{e.clientID, e.username, e.hasUsername}
		if byClient[id] == nil {
			order = append(order, id)
		}
		byClient[id] = append(byClient[id], e)
	}
	for _, id := range order {
		group := byClient[id]
		topics := make([]string, len(group))
		for i, e := range group {
			topics[i] = e.topic
		}
		sub := dialMQTT(t, addr, id.clientID, id.username, id.hasUsername)
		if _, err := sub.subscribe(append([]string{"#"}, topics...)...); err != nil {
			t.Fatalf("subscribe %q: %v", topics, err)
		}
		pub := dialMQTT(t, addr, interopPublisher, interopPublisher, true)
		for _, topic := range topics {
			if strings.HasPrefix(topic, "$SYS") {
				continue
			}
			if reason, err := pub.publish(topic); err != nil || reason >= 0x80 {
				t.Fatalf("publisher on %q: reason %#x, %v", topic, reason, err)
			}
		}
		pub.close()
		received, err := sub.collectUntilPong()
		sub.close()
		if err != nil {
			t.Fatalf("%+v: %v", id, err)
		}
		for _, e := range group {
			if got := received[e.topic]; got != e.allow {
				t.Errorf("%v: mosquitto delivered=%v, want allow=%v", e, got, e.allow)
			}
		}
	}
}

// mqttConn is a minimal MQTT 5 client: just what the interop checks need.
type mqttConn struct {
	conn   net.Conn
	r      *bufio.Reader
	nextID uint16
}

// MQTT control packet types (first byte, flags included where fixed).
const (
	pktConnect   = 0x10
	pktConnack   = 0x20
	pktPublish   = 0x30
	pktPuback    = 0x40
	pktSubscribe = 0x82
	pktSuback    = 0x90
	pktPingreq   = 0xc0
	pktPingresp  = 0xd0
	pktDisconn   = 0xe0
)

func dialMQTT(t *testing.T, addr, clientID, username string, hasUsername bool) *mqttConn {
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	c := &mqttConn{conn: conn, r: bufio.NewReader(conn)}
	flags := byte(0x02) // clean start
	if hasUsername {
		flags |= 0x80
	}
	body := appendString(nil, "MQTT")
	body = append(body, 5, flags, 0, 60, 0) // version, flags, keep alive 60 s, no properties
	body = appendString(body, clientID)
	if hasUsername {
		body = appendString(body, username)
	}
	typ, ack, err := c.roundTrip(pktConnect, body)
	if err != nil || typ != pktConnack || len(ack) < 2 || ack[1] != 0 {
		t.Fatalf("CONNECT as %q/%q: packet %#x %x, %v", clientID, username, typ, ack, err)
	}
	return c
}

func (c *mqttConn) close() {
	c.write(pktDisconn, nil)
	c.conn.Close()
}

// publish sends a QoS 1 PUBLISH and returns the PUBACK's reason code.
func (c *mqttConn) publish(topic string) (byte, error) {
	c.nextID++
	body := appendString(nil, topic)
	body = binary.BigEndian.AppendUint16(body, c.nextID)
	body = append(body, 0, 'x') // no properties, payload
	typ, ack, err := c.roundTrip(pktPublish|0x02, body)
	if err != nil || typ != pktPuback || len(ack) < 2 {
		return 0, fmt.Errorf("PUBLISH %q: packet %#x %x, %v", topic, typ, ack, err)
	}
	if len(ack) == 2 {
		return 0, nil // success, reason omitted
	}
	return ack[2], nil
}

// subscribe subscribes at QoS 0 and returns the SUBACK's reason codes.
func (c *mqttConn) subscribe(filters ...string) ([]byte, error) {
	c.nextID++
	body := binary.BigEndian.AppendUint16(nil, c.nextID)
	body = append(body, 0) // no properties
	for _, f := range filters {
		body = append(appendString(body, f), 0)
	}
	typ, ack, err := c.roundTrip(pktSubscribe, body)
	if err != nil || typ != pktSuback || len(ack) < 3 {
		return nil, fmt.Errorf("SUBSCRIBE: packet %#x %x, %v", typ, ack, err)
	}
	props, n := binary.Uvarint(ack[2:])
	reasons := ack[2+n+int(props):]
	if n <= 0 || len(reasons) != len(filters) {
		return nil, fmt.Errorf("SUBACK %x for %d filters", ack, len(filters))
	}
	return reasons, nil
}

// collectUntilPong sends PINGREQ and returns the topics of the PUBLISH
// packets that arrive before the PINGRESP.
func (c *mqttConn) collectUntilPong() (map[string]bool, error) {
	if err := c.write(pktPingreq, nil); err != nil {
		return nil, err
	}
	got := make(map[string]bool)
	for {
		typ, body, err := c.read()
		switch {
		case err != nil:
			return nil, err
		case typ == pktPingresp:
			return got, nil
		case typ&0xf0 == pktPublish && len(body) >= 2:
			n := int(binary.BigEndian.Uint16(body))
			if len(body) < 2+n {
				return nil, fmt.Errorf("short PUBLISH %x", body)
			}
			got[string(body[2:2+n])] = true
		default:
			return nil, fmt.Errorf("unexpected packet %#x %x", typ, body)
		}
	}
}

// roundTrip writes one packet and reads the next.
func (c *mqttConn) roundTrip(typ byte, body []byte) (byte, []byte, error) {
	if err := c.write(typ, body); err != nil {
		return 0, nil, err
	}
	return c.read()
}

func (c *mqttConn) write(typ byte, body []byte) error {
	pkt := append([]byte{typ}, binary.AppendUvarint(nil, uint64(len(body)))...)
	c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	_, err := c.conn.Write(append(pkt, body...))
	return err
}

// read reads one packet: its first byte and its body.
func (c *mqttConn) read() (byte, []byte, error) {
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	typ, err := c.r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, err := binary.ReadUvarint(c.r) // MQTT's variable byte integer is LEB128
	if err != nil {
		return 0, nil, err
	}
	if n > 1<<20 {
		return 0, nil, errors.New("packet too large")
	}
	body := make([]byte, n)
	_, err = io.ReadFull(c.r, body)
	return typ, body, err
}

func appendString(dst []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint16(dst, uint16(len(s))), s...)
}
