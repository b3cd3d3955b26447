package mqtt

import "encoding/binary"

// Decoding conventions, for every Decode function:
//   - body is a packet's remaining-length bytes, as Parser.Next returns them;
//   - the packet struct is the caller's and is overwritten; its byte slices
//     alias body and are valid only as long as body is; slices of the
//     struct (Filters, Reasons, UserProperties, SubscriptionIDs) are
//     truncated and appended to, so a reused struct decodes without
//     allocating;
//   - a violation returns an *Error carrying the reason code to close with;
//     the struct's contents are then unspecified;
//   - v selects the protocol: V5, or MQTT 3.1.1 for any other value.
//
// Fixed header flags are checked by CheckFlags; DecodePublish and DecodeAck,
// which receive the flags, check them too.

// CheckFlags checks the flags of a fixed header [MQTT-2.1.3-1]: PUBREL,
// SUBSCRIBE and UNSUBSCRIBE carry 0b0010 [MQTT-3.6.1-1] [MQTT-3.8.1-1]
// [MQTT-3.10.1-1], PUBLISH its DUP, QoS and RETAIN flags (QoS 3 is a
// Malformed Packet [MQTT-3.3.1-4], DUP on QoS 0 a Protocol Error
// [MQTT-3.3.1-2]), every other type 0. Type 0, and AUTH in MQTT 3.1.1, are
// reserved types (ErrReservedType).
func CheckFlags(t Type, flags byte, v Version) error {
	switch t {
	case PUBLISH:
		return checkPublishFlags(flags)
	case PUBREL, SUBSCRIBE, UNSUBSCRIBE:
		if flags != 0b0010 {
			return errBadFlags
		}
		return nil
	case CONNECT, CONNACK, PUBACK, PUBREC, PUBCOMP, SUBACK, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT:
	case AUTH:
		if v != V5 {
			return ErrReservedType
		}
	default:
		return ErrReservedType
	}
	if flags != 0 {
		return errBadFlags
	}
	return nil
}

func checkPublishFlags(flags byte) error {
	qos := flags >> 1 & 3
	if qos == 3 {
		return errPublishQoS3
	}
	if qos == 0 && flags&0b1000 != 0 {
		return errDupQoS0
	}
	return nil
}

// readBinary reads Binary Data, or the bytes of a UTF-8 Encoded String,
// prefixed with their two-byte length [MQTT-1.5.6] [MQTT-1.5.4], and returns
// them (capacity limited to their length) and the rest of b.
func readBinary(b []byte) (data, rest []byte, err error) {
	if len(b) < 2 {
		return nil, nil, errTruncated
	}
	n := int(b[0])<<8 | int(b[1])
	if len(b)-2 < n {
		return nil, nil, errTruncated
	}
	return b[2 : 2+n : 2+n], b[2+n:], nil
}

// readString reads a UTF-8 Encoded String and checks its characters.
func readString(b []byte) (s, rest []byte, err error) {
	s, rest, err = readBinary(b)
	if err == nil && !ValidUTF8(s) {
		return nil, nil, errBadUTF8
	}
	return s, rest, err
}

// readPacketID reads a non-zero Packet Identifier [MQTT-2.2.1-3].
func readPacketID(b []byte) (uint16, []byte, error) {
	if len(b) < 2 {
		return 0, nil, errTruncated
	}
	id := binary.BigEndian.Uint16(b)
	if id == 0 {
		return 0, nil, errPacketIDZero
	}
	return id, b[2:], nil
}

// readTopicName reads a topic name that must not be empty (a will topic, or
// a PUBLISH topic in MQTT 3.1.1).
func readTopicName(b []byte) (topic, rest []byte, err error) {
	topic, rest, err = readBinary(b)
	if err != nil {
		return nil, nil, err
	}
	if len(topic) == 0 {
		return nil, nil, ErrTopicNameInvalid // [MQTT-4.7.3-1]
	}
	return topic, rest, checkTopicName(topic)
}

// decodePropsV decodes a property section for MQTT 5 and only resets p for
// MQTT 3.1.1, which has none.
func decodePropsV(v Version, b []byte, ctx propContext, p *Properties) ([]byte, error) {
	if v != V5 {
		p.Reset()
		return b, nil
	}
	return decodeProps(b, ctx, p)
}

// DecodeConnect decodes a CONNECT body. The protocol name must be "MQTT"
// and the level 4 (3.1.1) or 5 (5.0); otherwise it returns
// ErrUnsupportedProtocol with c.Version set to the level read (0 if
// absent), so that the caller can refuse in the client's format: a 5.0
// CONNACK with UnsupportedProtocolVersion when c.Version is V5, otherwise a
// 3.1.1 CONNACK with V311UnacceptableProtocol [MQTT-3.1.2-2].
//
// It checks the reserved flag [MQTT-3.1.2-3], the will flags
// [MQTT-3.1.2-11] [MQTT-3.1.2-12] [MQTT-3.1.2-13], in 3.1.1 a password flag
// without user name flag [MQTT-3.1.2-22], UTF-8 strings [MQTT-1.5.4-1], the
// will topic (a valid topic name), and the properties of both the CONNECT
// and the will. An empty client identifier is accepted: whether to assign
// one [MQTT-3.1.3-6] or refuse it [MQTT-3.1.3-8] is the server's decision.
func DecodeConnect(body []byte, c *Connect) error {
	props, willProps := c.Props, c.WillProps
	*c = Connect{Props: props, WillProps: willProps}
	c.Props.Reset()
	c.WillProps.Reset()

	name, b, err := readBinary(body)
	if err != nil {
		return err
	}
	if len(b) < 1 {
		return errTruncated
	}
	c.Version = Version(b[0])
	if string(name) != "MQTT" || (c.Version != V311 && c.Version != V5) {
		return ErrUnsupportedProtocol // [MQTT-3.1.2-1] [MQTT-3.1.2-2]
	}
	if len(b) < 4 {
		return errTruncated
	}
	flags := b[1]
	c.KeepAlive = binary.BigEndian.Uint16(b[2:])
	b = b[4:]
	if flags&0x01 != 0 {
		return errConnectReserved // [MQTT-3.1.2-3]
	}
	c.CleanStart = flags&0x02 != 0
	c.WillFlag = flags&0x04 != 0
	c.WillQoS = QoS(flags >> 3 & 3)
	c.WillRetain = flags&0x20 != 0
	c.HasPassword = flags&0x40 != 0
	c.HasUsername = flags&0x80 != 0
	switch {
	case !c.WillFlag && (c.WillQoS != 0 || c.WillRetain):
		return errWillFlags // [MQTT-3.1.2-11] [MQTT-3.1.2-13]
	case c.WillQoS == 3:
		return errWillQoS3 // [MQTT-3.1.2-12]
	case c.Version == V311 && c.HasPassword && !c.HasUsername:
		return errPasswordNoUser // [MQTT-3.1.2-22]
	}

	if b, err = decodePropsV(c.Version, b, ctxConnect, &c.Props); err != nil {
		return err
	}
	if c.ClientID, b, err = readString(b); err != nil { // [MQTT-3.1.3-4]
		return err
	}
	if c.WillFlag {
		if b, err = decodePropsV(c.Version, b, ctxWill, &c.WillProps); err != nil {
			return err
		}
		if c.WillTopic, b, err = readTopicName(b); err != nil {
			return err
		}
		if c.WillPayload, b, err = readBinary(b); err != nil {
			return err
		}
	}
	if c.HasUsername {
		if c.Username, b, err = readString(b); err != nil { // [MQTT-3.1.3-11]
			return err
		}
	}
	if c.HasPassword {
		if c.Password, b, err = readBinary(b); err != nil {
			return err
		}
	}
	if len(b) != 0 {
		return errTrailing
	}
	return nil
}

// DecodeConnack decodes a CONNACK body: reserved acknowledge flags
// [MQTT-3.2.2-1], a known return or reason code, no session present with a
// refusal [MQTT-3.2.2-6], and in MQTT 5 the properties. In 3.1.1, Reason
// holds the return code (V311Accepted to V311NotAuthorized).
func DecodeConnack(v Version, body []byte, c *Connack) error {
	c.Props.Reset()
	if len(body) < 2 {
		return errTruncated
	}
	if body[0]&^1 != 0 {
		return errConnackFlags
	}
	c.SessionPresent = body[0] == 1
	c.Reason = ReasonCode(body[1])
	if v == V5 {
		if !connackReasons.has(c.Reason) {
			return errReasonCode
		}
		rest, err := decodeProps(body[2:], ctxConnack, &c.Props)
		if err != nil {
			return err
		}
		if len(rest) != 0 {
			return errTrailing
		}
	} else {
		if c.Reason > V311NotAuthorized {
			return errReasonCode
		}
		if len(body) != 2 {
			return errTrailing
		}
	}
	if c.SessionPresent && c.Reason != Success {
		return errConnackSession // [MQTT-3.2.2-6] [MQTT-3.2.2-4 in 3.1.1]
	}
	return nil
}

// DecodePublish decodes a PUBLISH body; flags are the fixed header's. It
// checks the flags, a non-zero packet identifier when QoS > 0
// [MQTT-2.2.1-3], the topic name (valid UTF-8 [MQTT-1.5.4-1], no wildcards
// [MQTT-3.3.2-2], not empty in 3.1.1 [MQTT-4.7.3-1]) and the MQTT 5
// properties. In MQTT 5 an empty topic is accepted when a Topic Alias is
// present [MQTT-3.3.2-1]: resolving aliases is the receiver's job.
// PacketID is 0 for QoS 0. Payload aliases body; with Payload Format
// Indicator 1 it is not checked for UTF-8 here (the receiver MAY check it,
// with ValidUTF8 [MQTT-3.3.2-4]).
func DecodePublish(v Version, flags byte, body []byte, p *Publish) error {
	if err := checkPublishFlags(flags); err != nil {
		return err
	}
	topic, b, err := readBinary(body)
	if err != nil {
		return err
	}
	p.Dup = flags&0b1000 != 0
	p.QoS = QoS(flags >> 1 & 3)
	p.Retain = flags&1 != 0
	p.Topic = topic
	p.PacketID = 0
	if p.QoS > 0 {
		if p.PacketID, b, err = readPacketID(b); err != nil {
			return err
		}
	}
	if v == V5 {
		if b, err = decodeProps(b, ctxPublish, &p.Props); err != nil {
			return err
		}
		if len(topic) == 0 && p.Props.present&bit(PropTopicAlias) == 0 {
			return errEmptyTopicNoAlias
		}
	} else {
		p.Props.Reset()
		if len(topic) == 0 {
			return ErrTopicNameInvalid // [MQTT-4.7.3-1]
		}
	}
	if err := checkTopicName(topic); err != nil {
		return err
	}
	p.Payload = b
	return nil
}

// DecodeAck decodes a PUBACK, PUBREC, PUBREL or PUBCOMP body of type t with
// fixed header flags: 0b0010 for PUBREL, 0 otherwise. The packet
// identifier must not be 0. In MQTT 5 the reason code and the properties
// may be left out: 2 bytes mean Success without properties, 3 bytes a
// reason code without properties [MQTT-3.4.2.1] [MQTT-3.4.2.2.1]; the code
// must be one of the type's.
func DecodeAck(v Version, t Type, flags byte, body []byte, a *Ack) error {
	var wantFlags byte
	reasons := &pubackReasons
	switch t {
	case PUBACK, PUBREC:
	case PUBREL:
		wantFlags, reasons = 0b0010, &pubrelReasons
	case PUBCOMP:
		reasons = &pubrelReasons
	default:
		return errNotAck
	}
	if flags != wantFlags {
		return errBadFlags
	}
	a.Type, a.Reason = t, Success
	a.Props.Reset()
	id, b, err := readPacketID(body)
	if err != nil {
		return err
	}
	a.PacketID = id
	if v != V5 || len(b) == 0 {
		if len(b) != 0 {
			return errTrailing
		}
		return nil
	}
	if a.Reason = ReasonCode(b[0]); !reasons.has(a.Reason) {
		return errReasonCode
	}
	return decodeTailProps(b[1:], ctxAck, &a.Props)
}

// decodeTailProps decodes an optional property section that must end the
// packet: absent (no bytes left) means no properties.
func decodeTailProps(b []byte, ctx propContext, p *Properties) error {
	if len(b) == 0 {
		return nil
	}
	rest, err := decodeProps(b, ctx, p)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errTrailing
	}
	return nil
}

// DecodeSubscribe decodes a SUBSCRIBE body: a non-zero packet identifier,
// in MQTT 5 the properties (at most one Subscription Identifier, 1 to
// 268435455), and at least one topic filter [MQTT-3.8.3-2], each a valid
// filter with valid options. 3.1.1: reserved option bits or QoS 3 make a
// Malformed Packet [MQTT-3-8.3-4]. 5.0: reserved bits are malformed
// [MQTT-3.8.3-5]; QoS 3, Retain Handling 3 and No Local on a shared
// subscription [MQTT-3.8.3-4] are Protocol Errors.
func DecodeSubscribe(v Version, body []byte, s *Subscribe) error {
	s.Filters = s.Filters[:0]
	b, err := decodeIDAndProps(v, body, &s.PacketID, ctxSubscribe, &s.Props)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return errNoFilters
	}
	for len(b) > 0 {
		var sub Subscription
		if sub.Filter, b, err = readFilter(b); err != nil {
			return err
		}
		if len(b) == 0 {
			return errTruncated
		}
		if err = sub.setOptions(v, b[0]); err != nil {
			return err
		}
		b = b[1:]
		s.Filters = append(s.Filters, sub)
	}
	return nil
}

// setOptions decodes and checks a subscription options byte.
func (sub *Subscription) setOptions(v Version, opts byte) error {
	sub.QoS = QoS(opts & 3)
	if v != V5 {
		if opts&^3 != 0 {
			return errSubReservedBits
		}
		if sub.QoS == 3 {
			return errSubQoS3Malformed
		}
		return nil
	}
	sub.NoLocal = opts&0x04 != 0
	sub.RetainAsPublished = opts&0x08 != 0
	sub.RetainHandling = opts >> 4 & 3
	switch {
	case opts&0xc0 != 0:
		return errSubReservedBits
	case sub.QoS == 3:
		return errSubQoS3
	case sub.RetainHandling == 3:
		return errRetainHandling3
	case sub.NoLocal && len(sub.Filter) > len(sharePrefix) && string(sub.Filter[:len(sharePrefix)]) == sharePrefix:
		return errSharedNoLocal
	}
	return nil
}

// readFilter reads a topic filter and checks it.
func readFilter(b []byte) (filter, rest []byte, err error) {
	if filter, rest, err = readString(b); err != nil {
		return nil, nil, err
	}
	if err = ValidTopicFilter(filter); err != nil {
		return nil, nil, err
	}
	return filter, rest, nil
}

// DecodeSuback decodes a SUBACK body: packet identifier, MQTT 5
// properties, and at least one reason code, each one SUBACK allows.
func DecodeSuback(v Version, body []byte, s *Suback) error {
	b, err := decodeIDAndProps(v, body, &s.PacketID, ctxSuback, &s.Props)
	if err != nil {
		return err
	}
	reasons := &subackReasonsV311
	if v == V5 {
		reasons = &subackReasons
	}
	s.Reasons, err = readReasons(b, s.Reasons[:0], reasons)
	return err
}

// decodeIDAndProps reads the packet identifier and the MQTT 5 properties
// that start SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK.
func decodeIDAndProps(v Version, body []byte, id *uint16, ctx propContext, p *Properties) ([]byte, error) {
	var err error
	var b []byte
	if *id, b, err = readPacketID(body); err != nil {
		return nil, err
	}
	return decodePropsV(v, b, ctx, p)
}

// readReasons appends the reason codes of b to dst; there must be at least
// one and each must be in allowed.
func readReasons(b []byte, dst []ReasonCode, allowed *reasonSet) ([]ReasonCode, error) {
	if len(b) == 0 {
		return dst, errNoReasons
	}
	for _, c := range b {
		if !allowed.has(ReasonCode(c)) {
			return dst, errReasonCode
		}
		dst = append(dst, ReasonCode(c))
	}
	return dst, nil
}

// DecodeUnsubscribe decodes an UNSUBSCRIBE body: a non-zero packet
// identifier, MQTT 5 properties, and at least one valid topic filter
// [MQTT-3.10.3-2].
func DecodeUnsubscribe(v Version, body []byte, u *Unsubscribe) error {
	u.Filters = u.Filters[:0]
	b, err := decodeIDAndProps(v, body, &u.PacketID, ctxUnsubscribe, &u.Props)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return errNoFilters
	}
	for len(b) > 0 {
		var filter []byte
		if filter, b, err = readFilter(b); err != nil {
			return err
		}
		u.Filters = append(u.Filters, filter)
	}
	return nil
}

// DecodeUnsuback decodes an UNSUBACK body: in 3.1.1 only a packet
// identifier; in MQTT 5 also properties and at least one reason code.
func DecodeUnsuback(v Version, body []byte, u *Unsuback) error {
	u.Reasons = u.Reasons[:0]
	b, err := decodeIDAndProps(v, body, &u.PacketID, ctxUnsuback, &u.Props)
	if err != nil {
		return err
	}
	if v != V5 {
		if len(b) != 0 {
			return errTrailing
		}
		return nil
	}
	u.Reasons, err = readReasons(b, u.Reasons, &unsubackReasons)
	return err
}

// DecodeDisconnect decodes a DISCONNECT body. In 3.1.1 it must be empty. In
// MQTT 5 an empty body means Success (normal disconnection) and one byte a
// reason code without properties [MQTT-3.14.2.1] [MQTT-3.14.2.2.1].
func DecodeDisconnect(v Version, body []byte, d *Disconnect) error {
	d.Reason = Success
	d.Props.Reset()
	if v != V5 || len(body) == 0 {
		if len(body) != 0 {
			return errNonEmptyBody
		}
		return nil
	}
	if d.Reason = ReasonCode(body[0]); !disconnectReasons.has(d.Reason) {
		return errReasonCode
	}
	return decodeTailProps(body[1:], ctxDisconnect, &d.Props)
}

// DecodeAuth decodes an MQTT 5 AUTH body. An empty body means Success
// without properties [MQTT-3.15.2.1]; otherwise a reason code (Success,
// Continue authentication or Re-authenticate) and properties, which must
// name the Authentication Method [MQTT-3.15.2.2.2], follow.
func DecodeAuth(body []byte, a *Auth) error {
	a.Reason = Success
	a.Props.Reset()
	if len(body) == 0 {
		return nil
	}
	if len(body) == 1 {
		return errShortAuth
	}
	if a.Reason = ReasonCode(body[0]); !authReasons.has(a.Reason) {
		return errReasonCode
	}
	if err := decodeTailProps(body[1:], ctxAuth, &a.Props); err != nil {
		return err
	}
	if a.Props.AuthMethod == nil {
		return errAuthNoMethod
	}
	return nil
}

// DecodePing checks the body of a PINGREQ or PINGRESP, which must be empty.
func DecodePing(body []byte) error {
	if len(body) != 0 {
		return errNonEmptyBody
	}
	return nil
}

// reasonSet is a set of reason codes.
type reasonSet [4]uint64

func newReasonSet(codes ...ReasonCode) (s reasonSet) {
	for _, c := range codes {
		s[c>>6] |= 1 << (c & 63)
	}
	return s
}

func (s *reasonSet) has(c ReasonCode) bool { return s[c>>6]&(1<<(c&63)) != 0 }

// The reason codes each packet type may carry [MQTT-2.4].
var (
	connackReasons = newReasonSet(Success, UnspecifiedError, MalformedPacket, ProtocolError,
		ImplementationSpecificError, UnsupportedProtocolVersion, ClientIDNotValid,
		BadUsernameOrPassword, NotAuthorized, ServerUnavailable, ServerBusy, Banned,
		BadAuthenticationMethod, TopicNameInvalid, PacketTooLarge, QuotaExceeded,
		PayloadFormatInvalid, RetainNotSupported, QoSNotSupported, UseAnotherServer, ServerMoved,
		ConnectionRateExceeded)
	pubackReasons = newReasonSet(Success, NoMatchingSubscribers, UnspecifiedError,
		ImplementationSpecificError, NotAuthorized, TopicNameInvalid, PacketIDInUse, QuotaExceeded,
		PayloadFormatInvalid)
	pubrelReasons     = newReasonSet(Success, PacketIDNotFound)
	subackReasonsV311 = newReasonSet(GrantedQoS0, GrantedQoS1, GrantedQoS2, V311SubackFailure)
	subackReasons     = newReasonSet(GrantedQoS0, GrantedQoS1, GrantedQoS2, UnspecifiedError,
		ImplementationSpecificError, NotAuthorized, TopicFilterInvalid, PacketIDInUse, QuotaExceeded,
		SharedSubNotSupported, SubIDsNotSupported, WildcardSubsNotSupported)
	unsubackReasons = newReasonSet(Success, NoSubscriptionExisted, UnspecifiedError,
		ImplementationSpecificError, NotAuthorized, TopicFilterInvalid, PacketIDInUse)
	disconnectReasons = newReasonSet(Success, DisconnectWithWill, UnspecifiedError, MalformedPacket,
		ProtocolError, ImplementationSpecificError, NotAuthorized, ServerBusy, ServerShuttingDown,
		KeepAliveTimeout, SessionTakenOver, TopicFilterInvalid, TopicNameInvalid,
		ReceiveMaximumExceeded, TopicAliasInvalid, PacketTooLarge, MessageRateTooHigh, QuotaExceeded,
		AdministrativeAction, PayloadFormatInvalid, RetainNotSupported, QoSNotSupported,
		UseAnotherServer, ServerMoved, SharedSubNotSupported, ConnectionRateExceeded,
		MaximumConnectTime, SubIDsNotSupported, WildcardSubsNotSupported)
	authReasons = newReasonSet(Success, ContinueAuthentication, ReAuthenticate)
)
