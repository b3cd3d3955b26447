package client

import (
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// Sentinel errors. Compare with errors.Is: the errors returned often wrap
// them with details.
var (
	// ErrClosed is the end of a client closed by this side: operations after
	// Disconnect or Close return it.
	ErrClosed = errors.New("client: closed")
	// ErrConnectionLost is the end of a connection this side did not close:
	// the server closed it, sent DISCONNECT (a *ReasonError), broke the
	// protocol, or stopped answering (ErrKeepAliveTimeout). Operations
	// afterwards return an error that errors.Is matches to it.
	ErrConnectionLost = errors.New("client: connection lost")
	// ErrKeepAliveTimeout means nothing arrived within a keep-alive interval
	// after a PINGREQ: the broker or the network is gone. It comes wrapped
	// with ErrConnectionLost.
	ErrKeepAliveTimeout = errors.New("client: keep-alive timeout: the server stopped answering")
	// ErrInvalidTopic is a topic name the protocol does not allow: empty,
	// longer than 65535 bytes, not UTF-8, or with a wildcard [MQTT-3.3.2-2].
	ErrInvalidTopic = errors.New("client: invalid topic name")
	// ErrInvalidFilter is a topic filter the protocol does not allow
	// [MQTT-4.7.1-1] [MQTT-4.7.1-2] [MQTT-4.7.3-1].
	ErrInvalidFilter = errors.New("client: invalid topic filter")
	// ErrInvalidQoS is a QoS other than 0, 1 or 2.
	ErrInvalidQoS = errors.New("client: invalid QoS")
	// ErrNoFilters is a Subscribe or Unsubscribe without filters [MQTT-3.8.3-2].
	ErrNoFilters = errors.New("client: no topic filters")
	// ErrPacketTooLarge is a packet larger than the server's Maximum Packet
	// Size (from CONNACK) [MQTT-3.1.2-24].
	ErrPacketTooLarge = errors.New("client: packet exceeds the server's maximum packet size")
	// ErrQoSNotSupported is a publish above the server's Maximum QoS [MQTT-3.2.2-11].
	ErrQoSNotSupported = errors.New("client: QoS above the server's maximum QoS")
	// ErrRetainNotSupported is a retained publish to a server without retain [MQTT-3.2.2-14].
	ErrRetainNotSupported = errors.New("client: the server does not support retained messages")
	// ErrNoPacketID means all 65535 packet identifiers are in use.
	ErrNoPacketID = errors.New("client: no free packet identifier")
)

// ReasonError is a refusal by the server: a CONNACK, SUBACK, UNSUBACK,
// PUBACK, PUBREC or PUBCOMP with a failure code, or a DISCONNECT from the
// server. Get it with errors.As. A DISCONNECT also matches
// ErrConnectionLost with errors.Is.
type ReasonError struct {
	Packet  mqtt.Type       // the packet that carried the code
	Code    mqtt.ReasonCode // MQTT 5 reason code, or the MQTT 3.1.1 return code
	Version mqtt.Version    // the protocol the code belongs to
	// ReasonString is the server's explanation (MQTT 5 Reason String), if any.
	ReasonString string
	// Filter is the topic filter a SUBACK or UNSUBACK code refers to.
	Filter string
}

// Error says which packet refused what, with the reason code's name and the
// server's reason string.
func (e *ReasonError) Error() string {
	var b strings.Builder
	b.WriteString("client: ")
	switch e.Packet {
	case mqtt.CONNACK:
		b.WriteString("connection refused: ")
	case mqtt.DISCONNECT:
		b.WriteString("server sent DISCONNECT: ")
	case mqtt.SUBACK:
		b.WriteString("subscription to " + strconv.Quote(e.Filter) + " refused: ")
	case mqtt.UNSUBACK:
		b.WriteString("unsubscription from " + strconv.Quote(e.Filter) + " refused: ")
	default:
		b.WriteString("publish refused (" + e.Packet.String() + "): ")
	}
	b.WriteString(codeString(e.Packet, e.Version, e.Code))
	if e.ReasonString != "" {
		b.WriteString(": " + e.ReasonString)
	}
	return b.String()
}

// Is makes a server DISCONNECT match ErrConnectionLost.
func (e *ReasonError) Is(target error) bool {
	return target == ErrConnectionLost && e.Packet == mqtt.DISCONNECT
}

// v311Connack names the MQTT 3.1.1 CONNACK return codes [MQTT-3.2.2.3].
var v311Connack = [...]string{"accepted", "unacceptable protocol version", "identifier rejected",
	"server unavailable", "bad user name or password", "not authorized"}

func codeString(t mqtt.Type, v mqtt.Version, code mqtt.ReasonCode) string {
	if v == mqtt.V5 {
		return code.String()
	}
	hex := "0x" + strconv.FormatUint(uint64(code), 16)
	if t == mqtt.CONNACK && int(code) < len(v311Connack) {
		return v311Connack[code] + " (return code " + hex + ")"
	}
	return "failure (" + hex + ")"
}

// lostError is the end of a connection the client did not close: it
// matches both ErrConnectionLost and its cause.
type lostError struct{ cause error }

func lost(cause error) error { return &lostError{cause} }

func (e *lostError) Error() string {
	if errors.Is(e.cause, io.EOF) {
		return "client: connection lost: closed by the server"
	}
	return "client: connection lost: " + strings.TrimPrefix(e.cause.Error(), "client: ")
}

func (e *lostError) Unwrap() []error { return []error{ErrConnectionLost, e.cause} }
