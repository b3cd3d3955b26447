package mqtt

// The errors this package returns. They are shared *Error values, so
// returning one never allocates; Reason(err) gives the reason code to send.
// Which code a violation maps to follows the MQTT 5 definitions [MQTT-1.2]:
// a Malformed Packet cannot be parsed according to the specification; a
// Protocol Error parses but carries data the protocol does not allow.
var (
	// ErrMalformedLength reports a remaining length (or another Variable Byte
	// Integer) longer than 4 bytes or not in its shortest form [MQTT-1.5.5-1].
	ErrMalformedLength = &Error{MalformedPacket, "malformed variable byte integer"}
	// ErrPacketTooLarge reports a packet bigger than Parser.MaxPacketSize.
	ErrPacketTooLarge = &Error{PacketTooLarge, "packet exceeds the maximum packet size"}
	// ErrReservedType reports a packet whose type nibble is 0 (reserved), or
	// AUTH (15) in MQTT 3.1.1.
	ErrReservedType = &Error{MalformedPacket, "reserved packet type"}
	// ErrUnsupportedProtocol reports a CONNECT whose protocol name is not
	// "MQTT" or whose protocol level is neither 4 nor 5 [MQTT-3.1.2-1] [MQTT-3.1.2-2].
	ErrUnsupportedProtocol = &Error{UnsupportedProtocolVersion, "unsupported protocol name or level"}
	// ErrTopicNameInvalid reports an empty topic name, one longer than 65535
	// bytes, one with wildcards [MQTT-3.3.2-2] or, from ValidTopicName, one
	// that is not valid UTF-8.
	ErrTopicNameInvalid = &Error{TopicNameInvalid, "invalid topic name"}
	// ErrTopicFilterInvalid reports a topic filter that breaks the wildcard
	// rules [MQTT-4.7.1-1] [MQTT-4.7.1-2], an empty one [MQTT-4.7.3-1], or a
	// malformed shared subscription [MQTT-4.8.2-1] [MQTT-4.8.2-2].
	ErrTopicFilterInvalid = &Error{TopicFilterInvalid, "invalid topic filter"}
)

// Structural errors: the packet does not parse.
var (
	errTruncated      = &Error{MalformedPacket, "packet shorter than its fields"}
	errTrailing       = &Error{MalformedPacket, "unexpected bytes after the packet's fields"}
	errBadUTF8        = &Error{MalformedPacket, "ill-formed UTF-8 string"}                              // [MQTT-1.5.4-1] [MQTT-1.5.4-2]
	errBadFlags       = &Error{MalformedPacket, "reserved fixed header flags are not as specified"}     // [MQTT-2.1.3-1]
	errNotAck         = &Error{MalformedPacket, "packet type is not PUBACK, PUBREC, PUBREL or PUBCOMP"} // caller's mistake
	errNonEmptyBody   = &Error{MalformedPacket, "packet must have no variable header or payload"}
	errPublishQoS3    = &Error{MalformedPacket, "PUBLISH with QoS 3"} // [MQTT-3.3.1-4]
	errPropNotAllowed = &Error{MalformedPacket, "property not allowed in this packet"}
	errShortAuth      = &Error{MalformedPacket, "AUTH with a reason code but no property length"}
)

// CONNECT and CONNACK errors.
var (
	errConnectReserved   = &Error{MalformedPacket, "CONNECT reserved flag is set"}             // [MQTT-3.1.2-3]
	errWillFlags         = &Error{MalformedPacket, "will QoS or will retain set without will"} // [MQTT-3.1.2-11] [MQTT-3.1.2-13]
	errWillQoS3          = &Error{MalformedPacket, "will QoS 3"}                               // [MQTT-3.1.2-12]
	errPasswordNoUser    = &Error{ProtocolError, "password flag set without user name flag"}   // [MQTT-3.1.2-22] (3.1.1)
	errAuthDataNoMethod  = &Error{ProtocolError, "authentication data without authentication method"}
	errAuthNoMethod      = &Error{ProtocolError, "AUTH without authentication method"}                  // [MQTT-3.15.2.2.2]
	errConnackFlags      = &Error{MalformedPacket, "CONNACK reserved flags are set"}                    // [MQTT-3.2.2-1]
	errConnackSession    = &Error{ProtocolError, "CONNACK refuses the connection with session present"} // [MQTT-3.2.2-6]
	errResponseTopicWild = &Error{ProtocolError, "response topic contains wildcards"}                   // [MQTT-3.3.2-14]
)

// PUBLISH, acknowledgement and subscription errors.
var (
	errDupQoS0           = &Error{ProtocolError, "DUP flag set on a QoS 0 PUBLISH"}        // [MQTT-3.3.1-2]
	errPacketIDZero      = &Error{ProtocolError, "packet identifier 0"}                    // [MQTT-2.2.1-3]
	errEmptyTopicNoAlias = &Error{ProtocolError, "empty topic name without a topic alias"} // [MQTT-3.3.2-1] (MQTT 5)
	errReasonCode        = &Error{ProtocolError, "reason code not allowed in this packet"}
	errNoFilters         = &Error{ProtocolError, "SUBSCRIBE or UNSUBSCRIBE without topic filters"} // [MQTT-3.8.3-2] [MQTT-3.10.3-2]
	errNoReasons         = &Error{ProtocolError, "SUBACK or UNSUBACK without reason codes"}
	errSubReservedBits   = &Error{MalformedPacket, "subscription options reserved bits are set"} // [MQTT-3.8.3-5]
	errSubQoS3Malformed  = &Error{MalformedPacket, "subscription with QoS 3"}                    // [MQTT-3-8.3-4] (3.1.1)
	errSubQoS3           = &Error{ProtocolError, "subscription with maximum QoS 3"}
	errRetainHandling3   = &Error{ProtocolError, "subscription with retain handling 3"}
	errSharedNoLocal     = &Error{ProtocolError, "no local set on a shared subscription"} // [MQTT-3.8.3-4]
)

// Property errors [MQTT-2.2.2.2].
var (
	errPropDuplicate = &Error{ProtocolError, "property included more than once"}
	errPropValue     = &Error{ProtocolError, "property value out of range"}
	errSubIDZero     = &Error{ProtocolError, "subscription identifier 0"}
	errTopicAlias0   = &Error{TopicAliasInvalid, "topic alias 0"} // [MQTT-3.3.2-8]
)
