package mqtt

import (
	"errors"
	"strconv"
)

// ReasonCode is an MQTT 5 reason code ([MQTT-2.4]). In MQTT 3.1.1 the CONNACK
// return codes (0 to 5) and the SUBACK codes (0, 1, 2, 0x80) share this type.
type ReasonCode byte

// MQTT 5 reason codes.
const (
	Success                     ReasonCode = 0x00 // also Normal disconnection, Granted QoS 0
	GrantedQoS0                 ReasonCode = 0x00
	GrantedQoS1                 ReasonCode = 0x01
	GrantedQoS2                 ReasonCode = 0x02
	DisconnectWithWill          ReasonCode = 0x04
	NoMatchingSubscribers       ReasonCode = 0x10
	NoSubscriptionExisted       ReasonCode = 0x11
	ContinueAuthentication      ReasonCode = 0x18
	ReAuthenticate              ReasonCode = 0x19
	UnspecifiedError            ReasonCode = 0x80
	MalformedPacket             ReasonCode = 0x81
	ProtocolError               ReasonCode = 0x82
	ImplementationSpecificError ReasonCode = 0x83
	UnsupportedProtocolVersion  ReasonCode = 0x84
	ClientIDNotValid            ReasonCode = 0x85
	BadUsernameOrPassword       ReasonCode = 0x86
	NotAuthorized               ReasonCode = 0x87
	ServerUnavailable           ReasonCode = 0x88
	ServerBusy                  ReasonCode = 0x89
	Banned                      ReasonCode = 0x8A
	ServerShuttingDown          ReasonCode = 0x8B
	BadAuthenticationMethod     ReasonCode = 0x8C
	KeepAliveTimeout            ReasonCode = 0x8D
	SessionTakenOver            ReasonCode = 0x8E
	TopicFilterInvalid          ReasonCode = 0x8F
	TopicNameInvalid            ReasonCode = 0x90
	PacketIDInUse               ReasonCode = 0x91
	PacketIDNotFound            ReasonCode = 0x92
	ReceiveMaximumExceeded      ReasonCode = 0x93
	TopicAliasInvalid           ReasonCode = 0x94
	PacketTooLarge              ReasonCode = 0x95
	MessageRateTooHigh          ReasonCode = 0x96
	QuotaExceeded               ReasonCode = 0x97
	AdministrativeAction        ReasonCode = 0x98
	PayloadFormatInvalid        ReasonCode = 0x99
	RetainNotSupported          ReasonCode = 0x9A
	QoSNotSupported             ReasonCode = 0x9B
	UseAnotherServer            ReasonCode = 0x9C
	ServerMoved                 ReasonCode = 0x9D
	SharedSubNotSupported       ReasonCode = 0x9E
	ConnectionRateExceeded      ReasonCode = 0x9F
	MaximumConnectTime          ReasonCode = 0xA0
	SubIDsNotSupported          ReasonCode = 0xA1
	WildcardSubsNotSupported    ReasonCode = 0xA2
)

// MQTT 3.1.1 CONNACK return codes ([MQTT-3.2.2.3]).
const (
	V311Accepted              ReasonCode = 0x00
	V311UnacceptableProtocol  ReasonCode = 0x01
	V311IdentifierRejected    ReasonCode = 0x02
	V311ServerUnavailable     ReasonCode = 0x03
	V311BadUsernameOrPassword ReasonCode = 0x04
	V311NotAuthorized         ReasonCode = 0x05
	V311SubackFailure         ReasonCode = 0x80
)

var reasonNames = map[ReasonCode]string{
	Success: "success", GrantedQoS1: "granted QoS 1", GrantedQoS2: "granted QoS 2",
	DisconnectWithWill: "disconnect with will message", NoMatchingSubscribers: "no matching subscribers",
	NoSubscriptionExisted: "no subscription existed", ContinueAuthentication: "continue authentication",
	ReAuthenticate: "re-authenticate", UnspecifiedError: "unspecified error",
	MalformedPacket: "malformed packet", ProtocolError: "protocol error",
	ImplementationSpecificError: "implementation specific error",
	UnsupportedProtocolVersion:  "unsupported protocol version", ClientIDNotValid: "client identifier not valid",
	BadUsernameOrPassword: "bad user name or password", NotAuthorized: "not authorized",
	ServerUnavailable: "server unavailable", ServerBusy: "server busy", Banned: "banned",
	ServerShuttingDown: "server shutting down", BadAuthenticationMethod: "bad authentication method",
	KeepAliveTimeout: "keep alive timeout", SessionTakenOver: "session taken over",
	TopicFilterInvalid: "topic filter invalid", TopicNameInvalid: "topic name invalid",
	PacketIDInUse: "packet identifier in use", PacketIDNotFound: "packet identifier not found",
	ReceiveMaximumExceeded: "receive maximum exceeded", TopicAliasInvalid: "topic alias invalid",
	PacketTooLarge: "packet too large", MessageRateTooHigh: "message rate too high",
	QuotaExceeded: "quota exceeded", AdministrativeAction: "administrative action",
	PayloadFormatInvalid: "payload format invalid", RetainNotSupported: "retain not supported",
	QoSNotSupported: "QoS not supported", UseAnotherServer: "use another server",
	ServerMoved: "server moved", SharedSubNotSupported: "shared subscriptions not supported",
	ConnectionRateExceeded: "connection rate exceeded", MaximumConnectTime: "maximum connect time",
	SubIDsNotSupported:       "subscription identifiers not supported",
	WildcardSubsNotSupported: "wildcard subscriptions not supported",
}

// String returns the MQTT 5 name of the code and its value, e.g.
// "malformed packet (0x81)".
func (r ReasonCode) String() string {
	name, ok := reasonNames[r]
	if !ok {
		name = "reason"
	}
	return name + " (0x" + strconv.FormatUint(uint64(r), 16) + ")"
}

// IsError reports whether r signals failure (0x80 and above).
func (r ReasonCode) IsError() bool { return r >= 0x80 }

// Error is a decoding or protocol error with the reason code a server or
// client should send when closing because of it. Errors returned by this
// package are *Error values (often shared sentinels, so they do not allocate).
type Error struct {
	Code ReasonCode
	Msg  string
}

// Error returns the message with the package prefix, e.g. "mqtt: packet
// identifier 0".
func (e *Error) Error() string { return "mqtt: " + e.Msg }

// Reason returns the MQTT 5 reason code attached to err, or
// UnspecifiedError when err carries none.
func Reason(err error) ReasonCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return UnspecifiedError
}
