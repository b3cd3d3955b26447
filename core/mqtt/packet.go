package mqtt

// Version is the MQTT protocol level carried in CONNECT.
type Version byte

// Protocol levels this package speaks.
const (
	V311 Version = 4 // MQTT 3.1.1
	V5   Version = 5 // MQTT 5.0
)

// String returns "3.1.1" or "5.0".
func (v Version) String() string {
	switch v {
	case V311:
		return "3.1.1"
	case V5:
		return "5.0"
	}
	return "unknown"
}

// Type is an MQTT control packet type (the high nibble of the first byte).
type Type byte

// Control packet types.
const (
	CONNECT     Type = 1
	CONNACK     Type = 2
	PUBLISH     Type = 3
	PUBACK      Type = 4
	PUBREC      Type = 5
	PUBREL      Type = 6
	PUBCOMP     Type = 7
	SUBSCRIBE   Type = 8
	SUBACK      Type = 9
	UNSUBSCRIBE Type = 10
	UNSUBACK    Type = 11
	PINGREQ     Type = 12
	PINGRESP    Type = 13
	DISCONNECT  Type = 14
	AUTH        Type = 15 // MQTT 5 only
)

var typeNames = [...]string{"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC",
	"PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ",
	"PINGRESP", "DISCONNECT", "AUTH"}

// String returns the packet type's name, e.g. "PUBLISH".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "INVALID"
}

// QoS is a quality-of-service level, 0, 1 or 2.
type QoS byte

// FixedHeader is the first part of every packet.
type FixedHeader struct {
	Type      Type
	Flags     byte // the low nibble of the first byte
	Remaining int  // the remaining length: bytes after the fixed header
}

// UserProperty is one MQTT 5 user property; both sides alias the decoded buffer.
type UserProperty struct {
	Key, Value []byte
}

// Properties holds the MQTT 5 properties of one packet (or of a will).
//
// Decoders reset and fill a caller-owned Properties: byte slices alias the
// decoded packet's bytes and are valid only as long as those bytes are; the
// UserProperties and SubscriptionIDs slices are truncated and appended to, so
// a reused Properties decodes without allocating. For MQTT 3.1.1 packets
// Properties stay empty.
//
// Presence: a scalar property (a number) is present when its bit is set (Has,
// Set, Clear; decoders set it); a string or binary property when its slice is
// non-nil (an empty non-nil slice is a present, empty value); User Property
// and Subscription Identifier once for each element, in order. Encoders write
// only the properties the packet type allows, in identifier order.
type Properties struct {
	present uint64 // bit i set: scalar property identifier i is present

	PayloadFormat        byte   // 0x01
	MessageExpiry        uint32 // 0x02, seconds
	ContentType          []byte // 0x03
	ResponseTopic        []byte // 0x08
	CorrelationData      []byte // 0x09
	SubscriptionIDs      []uint32
	SessionExpiry        uint32 // 0x11, seconds
	AssignedClientID     []byte // 0x12
	ServerKeepAlive      uint16 // 0x13, seconds
	AuthMethod           []byte // 0x15
	AuthData             []byte // 0x16
	RequestProblemInfo   byte   // 0x17
	WillDelay            uint32 // 0x18, seconds
	RequestResponseInfo  byte   // 0x19
	ResponseInfo         []byte // 0x1A
	ServerReference      []byte // 0x1C
	ReasonString         []byte // 0x1F
	ReceiveMaximum       uint16 // 0x21
	TopicAliasMaximum    uint16 // 0x22
	TopicAlias           uint16 // 0x23
	MaximumQoS           byte   // 0x24
	RetainAvailable      byte   // 0x25
	UserProperties       []UserProperty
	MaximumPacketSize    uint32 // 0x27
	WildcardSubAvailable byte   // 0x28
	SubIDAvailable       byte   // 0x29
	SharedSubAvailable   byte   // 0x2A
}

// Property identifiers ([MQTT-2.2.2.2]).
const (
	PropPayloadFormat        byte = 0x01
	PropMessageExpiry        byte = 0x02
	PropContentType          byte = 0x03
	PropResponseTopic        byte = 0x08
	PropCorrelationData      byte = 0x09
	PropSubscriptionID       byte = 0x0B
	PropSessionExpiry        byte = 0x11
	PropAssignedClientID     byte = 0x12
	PropServerKeepAlive      byte = 0x13
	PropAuthMethod           byte = 0x15
	PropAuthData             byte = 0x16
	PropRequestProblemInfo   byte = 0x17
	PropWillDelay            byte = 0x18
	PropRequestResponseInfo  byte = 0x19
	PropResponseInfo         byte = 0x1A
	PropServerReference      byte = 0x1C
	PropReasonString         byte = 0x1F
	PropReceiveMaximum       byte = 0x21
	PropTopicAliasMaximum    byte = 0x22
	PropTopicAlias           byte = 0x23
	PropMaximumQoS           byte = 0x24
	PropRetainAvailable      byte = 0x25
	PropUserProperty         byte = 0x26
	PropMaximumPacketSize    byte = 0x27
	PropWildcardSubAvailable byte = 0x28
	PropSubIDAvailable       byte = 0x29
	PropSharedSubAvailable   byte = 0x2A
)

// Has reports whether property id is present: for a scalar property, that
// it was decoded or Set; for a string or binary property, that its slice is
// non-nil; for User Property and Subscription Identifier, that there is at
// least one.
func (p *Properties) Has(id byte) bool {
	if id >= 64 {
		return false
	}
	switch propKinds[id] {
	case kindString, kindBinary:
		return *p.bytesField(id) != nil
	case kindVarint:
		return len(p.SubscriptionIDs) > 0
	case kindStringPair:
		return len(p.UserProperties) > 0
	}
	return p.present&bit(id) != 0
}

// Set marks scalar property id as present, so that encoders write it. It
// does nothing for other identifiers: string and binary properties are
// written when their slice is non-nil, lists when they are non-empty.
func (p *Properties) Set(id byte) {
	if id < 64 {
		p.present |= bit(id) & scalarProps
	}
}

// Clear marks property id as absent: a scalar's presence is cleared, a
// string or binary property is set to nil, a list is emptied.
func (p *Properties) Clear(id byte) {
	if id >= 64 {
		return
	}
	switch propKinds[id] {
	case kindString, kindBinary:
		*p.bytesField(id) = nil
	case kindVarint:
		p.SubscriptionIDs = p.SubscriptionIDs[:0]
	case kindStringPair:
		p.UserProperties = p.UserProperties[:0]
	default:
		p.present &^= bit(id)
	}
}

// Reset empties p, keeping the capacity of its slices.
func (p *Properties) Reset() {
	ups, ids := p.UserProperties[:0], p.SubscriptionIDs[:0]
	*p = Properties{UserProperties: ups, SubscriptionIDs: ids}
}

// Connect is a CONNECT packet. Version is the protocol level: DecodeConnect
// sets it (also when refusing an unsupported level), AppendConnect writes
// MQTT 5 for V5 and 3.1.1 otherwise. The Has flags say whether Username and
// Password are present; the will fields count only when WillFlag is set.
type Connect struct {
	Version     Version
	CleanStart  bool // "clean session" in 3.1.1
	KeepAlive   uint16
	ClientID    []byte
	HasUsername bool
	Username    []byte
	HasPassword bool
	Password    []byte
	Props       Properties

	WillFlag    bool
	WillQoS     QoS
	WillRetain  bool
	WillTopic   []byte
	WillPayload []byte
	WillProps   Properties
}

// Connack is a CONNACK packet. In 3.1.1 Reason carries the return code
// (0 to 5) and Props are not encoded.
type Connack struct {
	SessionPresent bool
	Reason         ReasonCode
	Props          Properties
}

// Publish is a PUBLISH packet. PacketID is meaningful only for QoS > 0.
type Publish struct {
	Dup      bool
	QoS      QoS
	Retain   bool
	Topic    []byte
	PacketID uint16
	Props    Properties
	Payload  []byte
}

// Ack is a PUBACK, PUBREC, PUBREL or PUBCOMP packet.
type Ack struct {
	Type     Type
	PacketID uint16
	Reason   ReasonCode // MQTT 5; 0 (Success) in 3.1.1
	Props    Properties
}

// Subscription is one topic filter of a SUBSCRIBE with its options.
type Subscription struct {
	Filter            []byte
	QoS               QoS  // maximum QoS
	NoLocal           bool // MQTT 5
	RetainAsPublished bool // MQTT 5
	RetainHandling    byte // MQTT 5: 0 send retained, 1 only if new, 2 never
}

// Subscribe is a SUBSCRIBE packet. Filters reuses its capacity across decodes.
type Subscribe struct {
	PacketID uint16
	Props    Properties
	Filters  []Subscription
}

// Suback is a SUBACK packet: one reason code (granted QoS or failure) per filter.
type Suback struct {
	PacketID uint16
	Props    Properties
	Reasons  []ReasonCode
}

// Unsubscribe is an UNSUBSCRIBE packet. Filters reuses its capacity.
type Unsubscribe struct {
	PacketID uint16
	Props    Properties
	Filters  [][]byte
}

// Unsuback is an UNSUBACK packet. Reasons is empty in 3.1.1.
type Unsuback struct {
	PacketID uint16
	Props    Properties
	Reasons  []ReasonCode
}

// Disconnect is a DISCONNECT packet (reason and properties only in MQTT 5).
type Disconnect struct {
	Reason ReasonCode
	Props  Properties
}

// Auth is an MQTT 5 AUTH packet.
type Auth struct {
	Reason ReasonCode
	Props  Properties
}
