package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/pubsubx/pubsubx/core/client"
)

// opTimeout bounds how long a command waits for the server's answer.
const opTimeout = 10 * time.Second

// settings are the command line flags that shape each connection.
type settings struct {
	expiry    time.Duration
	keepAlive time.Duration
}

// session is the loop that owns the connection: it runs the commands the
// command loop sends, prints the messages the connection receives, and
// notices when the connection is lost. Only its goroutine touches c.
type session struct {
	out      console
	settings settings
	cmds     <-chan *command

	c    *client.Client
	msgs chan *client.Message // filled by the client's reader (Handler), drained here
	stop chan struct{}        // closed before a disconnection: the Handler stops waiting on msgs
}

// run executes commands until EXIT (or the end of the input).
func (s *session) run() {
	for {
		var lost <-chan struct{}
		if s.c != nil {
			lost = s.c.Done()
		}
		select {
		case cmd := <-s.cmds:
			s.execute(cmd)
			close(cmd.done)
			if cmd.op == opExit {
				return
			}
		case m := <-s.msgs:
			s.printMessage(m)
		case <-lost:
			s.connectionLost()
		}
	}
}

func (s *session) execute(cmd *command) {
	if cmd.op == opConnect {
		s.connect(cmd)
		return
	}
	if s.c == nil {
		if cmd.op != opExit {
			s.errorf("%v", errNotConnected)
		}
		return
	}
	s.drainMessages() // what arrived before the command is printed before its outcome
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	switch cmd.op {
	case opDisconnect, opExit:
		s.disconnect(ctx)
	case opPublish:
		opts := client.PublishOptions{QoS: cmd.qos, Retain: cmd.retain}
		p, err := s.c.PublishAsync(ctx, cmd.topic, []byte(cmd.data), opts)
		if err == nil {
			err = s.await(ctx, p)
		}
		s.report("publish to "+cmd.topic, err)
	case opSubscribe:
		p, err := s.c.SubscribeAsync(0, client.Subscription{Filter: cmd.topic, QoS: cmd.qos})
		if err == nil {
			err = s.await(ctx, p)
		}
		s.report("subscribe to "+cmd.topic, err)
	case opUnsubscribe:
		p, err := s.c.UnsubscribeAsync(cmd.topic)
		if err == nil {
			err = s.await(ctx, p)
		}
		s.report("unsubscribe from "+cmd.topic, err)
	}
}

// connect dials the server with a persistent session: clean start 0 and a
// session expiry, so that the server keeps the session (subscriptions,
// messages) for a while when the connection is lost. Messages queued while
// this name was away arrive right after the connection is established.
func (s *session) connect(cmd *command) {
	if s.c != nil {
		s.errorf("already connected as %s: DISCONNECT first", s.c.ClientID())
		return
	}
	s.msgs, s.stop = make(chan *client.Message, 1024), make(chan struct{})
	msgs, stop := s.msgs, s.stop
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	c, err := client.Dial(ctx, cmd.addr, client.Options{
		ClientID:      cmd.name,
		SessionExpiry: s.settings.expiry,
		KeepAlive:     s.settings.keepAlive,
		Handler: func(m *client.Message) {
			select { // runs on the client's reader: hand over a copy
			case msgs <- m.Clone():
			case <-stop:
			}
		},
	})
	var refused *client.ReasonError
	var netErr *net.OpError
	switch {
	case err == nil:
		s.c = c
		s.out.Println("INFO: Connection successfully established")
		if c.SessionPresent() {
			s.out.Println("INFO: Session resumed: its subscriptions are back, and what arrived while you were away follows")
		}
	case errors.As(err, &refused):
		s.errorf("%s refused the connection: %s", cmd.addr, strings.TrimPrefix(err.Error(), "client: connection refused: "))
	case errors.As(err, &netErr):
		s.errorf("server unreachable at %s: %v", cmd.addr, netErr.Err)
	default:
		s.errorf("cannot connect to %s: %s", cmd.addr, describe(err))
	}
}

// disconnect sends DISCONNECT with session expiry 0: the session ends.
func (s *session) disconnect(ctx context.Context) {
	close(s.stop)
	err := s.c.DisconnectWith(ctx, client.DisconnectOptions{EndSession: true})
	s.c = nil
	if err != nil && !errors.Is(err, client.ErrClosed) {
		s.errorf("disconnect: %s", describe(err))
	}
}

// await waits for the server's answer to p, printing messages meanwhile:
// the client's reader, which brings the answer, may be waiting for this
// loop to take a message first.
func (s *session) await(ctx context.Context, p *client.Pending) error {
	for {
		select {
		case <-p.Done():
			return p.Err()
		case m := <-s.msgs:
			s.printMessage(m)
		case <-ctx.Done():
			return fmt.Errorf("no answer from the server within %v", opTimeout)
		}
	}
}

// report prints the error of a command, unless it is the connection's
// loss, which connectionLost reports once.
func (s *session) report(what string, err error) {
	switch {
	case err == nil:
	case errors.Is(err, client.ErrConnectionLost):
		s.connectionLost()
	default:
		s.errorf("%s: %s", what, describe(err))
	}
}

// connectionLost prints the messages received before the loss, then says
// so; CONNECT may follow.
func (s *session) connectionLost() {
	if s.c == nil {
		return
	}
	for ended := false; !ended; { // the reader may be handing over a message
		select {
		case <-s.c.Done():
			ended = true
		case m := <-s.msgs:
			s.printMessage(m)
		}
	}
	s.drainMessages()
	err := s.c.Err()
	s.c.Close() // releases the client's goroutines; the connection is gone already
	s.c = nil
	s.errorf("connection lost: %s; use CONNECT to connect again", describe(err))
}

func (s *session) drainMessages() {
	for {
		select {
		case m := <-s.msgs:
			s.printMessage(m)
		default:
			return
		}
	}
}

func (s *session) printMessage(m *client.Message) {
	s.out.Println("[" + string(m.Topic) + "] " + string(m.Payload))
}

func (s *session) errorf(format string, args ...any) {
	s.out.Println("ERROR: " + fmt.Sprintf(format, args...))
}

// describe turns a library error into words for the user.
func describe(err error) string {
	msg := strings.TrimPrefix(err.Error(), "client: ")
	return strings.TrimPrefix(msg, "connection lost: ")
}
