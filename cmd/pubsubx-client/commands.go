package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// helpText lists every command; -h prints it.
const helpText = `Commands (case-insensitive):
  CONNECT [host:]port name       connect to the server as name (host defaults to localhost);
                                 the server keeps your session for -expiry after a connection loss
  DISCONNECT                     disconnect and end the session
  PUBLISH [-q 0|1|2] [-r] topic data...
                                 publish the rest of the line to topic (QoS 1 by default; -r retains)
  SUBSCRIBE [-q 0|1|2] topic     subscribe to a topic or filter (+ one level, # all below; QoS 1 by default)
  UNSUBSCRIBE topic              unsubscribe
  -h                             this help
  EXIT, QUIT or Ctrl-D           disconnect (ending the session) and leave
Messages arrive as: [topic] payload`

// op names a command.
type op int

const (
	opNone op = iota // an empty line
	opHelp
	opConnect
	opDisconnect
	opPublish
	opSubscribe
	opUnsubscribe
	opExit
)

// command is one parsed line.
type command struct {
	op     op
	addr   string // CONNECT: host:port
	name   string // CONNECT: client name
	topic  string // PUBLISH, SUBSCRIBE, UNSUBSCRIBE
	data   string // PUBLISH
	qos    mqtt.QoS
	retain bool
	done   chan struct{} // closed by the session loop when the command has run
}

// usage is each command's synopsis, for "missing argument" errors.
var usage = map[op]string{
	opConnect:     "CONNECT [host:]port name",
	opPublish:     "PUBLISH [-q 0|1|2] [-r] topic data...",
	opSubscribe:   "SUBSCRIBE [-q 0|1|2] topic",
	opUnsubscribe: "UNSUBSCRIBE topic",
	opDisconnect:  "DISCONNECT",
}

// defaultQoS is the QoS of PUBLISH and SUBSCRIBE without -q: QoS 1, so that
// a message in flight when a subscriber is lost is delivered again when it
// comes back.
const defaultQoS = 1

// parseCommand parses one input line. Errors are meant for the user: the
// caller prints "ERROR: " and the error.
func parseCommand(line string) (*command, error) {
	line = strings.TrimRight(line, "\r\n")
	word, rest := nextWord(line)
	if word == "" {
		return &command{op: opNone}, nil
	}
	switch strings.ToUpper(word) {
	case "-H", "HELP":
		return &command{op: opHelp}, nil
	case "EXIT", "QUIT":
		return &command{op: opExit}, nil
	case "DISCONNECT":
		return noMoreArgs(&command{op: opDisconnect}, rest)
	case "CONNECT":
		return parseConnect(rest)
	case "PUBLISH":
		return parsePublish(rest)
	case "SUBSCRIBE":
		c := &command{op: opSubscribe, qos: defaultQoS}
		rest, err := parseFlags(c, rest, false)
		if err != nil {
			return nil, err
		}
		if c.topic, rest = nextWord(rest); c.topic == "" {
			return nil, missing(c.op)
		}
		return noMoreArgs(c, rest)
	case "UNSUBSCRIBE":
		c := &command{op: opUnsubscribe}
		if c.topic, rest = nextWord(rest); c.topic == "" {
			return nil, missing(c.op)
		}
		return noMoreArgs(c, rest)
	}
	return nil, fmt.Errorf("unknown command %q (-h lists the commands)", word)
}

func parseConnect(rest string) (*command, error) {
	c := &command{op: opConnect}
	target, rest := nextWord(rest)
	if c.name, rest = nextWord(rest); c.name == "" {
		return nil, missing(c.op)
	}
	host, port := "localhost", target
	if strings.Contains(target, ":") {
		var err error
		if host, port, err = net.SplitHostPort(target); err != nil {
			return nil, fmt.Errorf("invalid address %q: want [host:]port", target)
		}
		if host == "" {
			host = "localhost"
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, fmt.Errorf("invalid port %q: want a number from 1 to 65535", port)
	}
	c.addr = net.JoinHostPort(host, port)
	return noMoreArgs(c, rest)
}

func parsePublish(rest string) (*command, error) {
	c := &command{op: opPublish, qos: defaultQoS}
	rest, err := parseFlags(c, rest, true)
	if err != nil {
		return nil, err
	}
	c.topic, c.data = nextWord(rest)
	if c.topic == "" || c.data == "" {
		return nil, missing(c.op)
	}
	if strings.ContainsAny(c.topic, "+#") {
		return nil, fmt.Errorf("invalid topic %q: wildcards are for SUBSCRIBE", c.topic)
	}
	return c, nil
}

// parseFlags reads the leading -q N and (when retainOK) -r options.
func parseFlags(c *command, rest string, retainOK bool) (string, error) {
	for {
		word, after := nextWord(rest)
		switch {
		case word == "-r" && retainOK:
			c.retain = true
		case word == "-q":
			var n string
			n, after = nextWord(after)
			if n == "" {
				return "", fmt.Errorf("missing argument: -q wants 0, 1 or 2: usage: %s", usage[c.op])
			}
			q, err := strconv.Atoi(n)
			if err != nil || q < 0 || q > 2 {
				return "", fmt.Errorf("invalid QoS %q: want -q 0, 1 or 2", n)
			}
			c.qos = mqtt.QoS(q)
		case strings.HasPrefix(word, "-") && len(word) > 1:
			return "", fmt.Errorf("unknown option %q: usage: %s", word, usage[c.op])
		default:
			return rest, nil
		}
		rest = after
	}
}

// nextWord splits s into its first word and the rest after the blanks that
// follow it; the rest keeps its inner spacing.
func nextWord(s string) (word, rest string) {
	s = strings.TrimLeft(s, " \t")
	end := strings.IndexAny(s, " \t")
	if end < 0 {
		return s, ""
	}
	return s[:end], strings.TrimLeft(s[end:], " \t")
}

func missing(o op) error { return fmt.Errorf("missing argument: usage: %s", usage[o]) }

func noMoreArgs(c *command, rest string) (*command, error) {
	if strings.TrimSpace(rest) != "" {
		return nil, fmt.Errorf("too many arguments: usage: %s", usage[c.op])
	}
	return c, nil
}

// errNotConnected is the answer to commands that need a connection.
var errNotConnected = errors.New("not connected: use CONNECT [host:]port name first")
