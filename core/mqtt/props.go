package mqtt

import (
	"encoding/binary"
	"math/bits"
)

// propContext names the property set of one packet type (or of a will).
type propContext uint8

const (
	ctxConnect propContext = iota
	ctxWill
	ctxConnack
	ctxPublish
	ctxAck // PUBACK, PUBREC, PUBREL, PUBCOMP
	ctxSubscribe
	ctxSuback
	ctxUnsubscribe
	ctxUnsuback
	ctxDisconnect
	ctxAuth
)

func bit(id byte) uint64 { return 1 << id }

// propsAllowed lists the properties each packet type may carry; any other is
// a Malformed Packet [MQTT-2.2.2.2].
var propsAllowed = [...]uint64{
	ctxConnect: bit(PropSessionExpiry) | bit(PropAuthMethod) | bit(PropAuthData) |
		bit(PropRequestProblemInfo) | bit(PropRequestResponseInfo) | bit(PropReceiveMaximum) |
		bit(PropTopicAliasMaximum) | bit(PropUserProperty) | bit(PropMaximumPacketSize),
	ctxWill: bit(PropPayloadFormat) | bit(PropMessageExpiry) | bit(PropContentType) |
		bit(PropResponseTopic) | bit(PropCorrelationData) | bit(PropWillDelay) | bit(PropUserProperty),
	ctxConnack: bit(PropSessionExpiry) | bit(PropAssignedClientID) | bit(PropServerKeepAlive) |
		bit(PropAuthMethod) | bit(PropAuthData) | bit(PropResponseInfo) | bit(PropServerReference) |
		bit(PropReasonString) | bit(PropReceiveMaximum) | bit(PropTopicAliasMaximum) |
		bit(PropMaximumQoS) | bit(PropRetainAvailable) | bit(PropUserProperty) |
		bit(PropMaximumPacketSize) | bit(PropWildcardSubAvailable) | bit(PropSubIDAvailable) |
		bit(PropSharedSubAvailable),
	ctxPublish: bit(PropPayloadFormat) | bit(PropMessageExpiry) | bit(PropContentType) |
		bit(PropResponseTopic) | bit(PropCorrelationData) | bit(PropSubscriptionID) |
		bit(PropTopicAlias) | bit(PropUserProperty),
	ctxAck:         bit(PropReasonString) | bit(PropUserProperty),
	ctxSubscribe:   bit(PropSubscriptionID) | bit(PropUserProperty),
	ctxSuback:      bit(PropReasonString) | bit(PropUserProperty),
	ctxUnsubscribe: bit(PropUserProperty),
	ctxUnsuback:    bit(PropReasonString) | bit(PropUserProperty),
	ctxDisconnect: bit(PropSessionExpiry) | bit(PropServerReference) | bit(PropReasonString) |
		bit(PropUserProperty),
	ctxAuth: bit(PropAuthMethod) | bit(PropAuthData) | bit(PropReasonString) | bit(PropUserProperty),
}

// propsRepeatable lists the properties that may appear more than once;
// including any other twice is a Protocol Error [MQTT-2.2.2.2]. A PUBLISH
// carries one Subscription Identifier per matching subscription
// [MQTT-3.3.4-3]; a SUBSCRIBE carries at most one.
func propsRepeatable(ctx propContext) uint64 {
	if ctx == ctxPublish {
		return bit(PropUserProperty) | bit(PropSubscriptionID)
	}
	return bit(PropUserProperty)
}

// propKind is the data type of a property's value [MQTT-2.2.2.2].
type propKind uint8

const (
	kindNone       propKind = iota
	kindByte                // Byte; every byte property here allows only 0 and 1
	kindUint16              // Two Byte Integer
	kindUint32              // Four Byte Integer
	kindVarint              // Variable Byte Integer (Subscription Identifier)
	kindString              // UTF-8 Encoded String
	kindBinary              // Binary Data
	kindStringPair          // UTF-8 String Pair (User Property)
)

var propKinds = [64]propKind{
	PropPayloadFormat: kindByte, PropMessageExpiry: kindUint32, PropContentType: kindString,
	PropResponseTopic: kindString, PropCorrelationData: kindBinary, PropSubscriptionID: kindVarint,
	PropSessionExpiry: kindUint32, PropAssignedClientID: kindString, PropServerKeepAlive: kindUint16,
	PropAuthMethod: kindString, PropAuthData: kindBinary, PropRequestProblemInfo: kindByte,
	PropWillDelay: kindUint32, PropRequestResponseInfo: kindByte, PropResponseInfo: kindString,
	PropServerReference: kindString, PropReasonString: kindString, PropReceiveMaximum: kindUint16,
	PropTopicAliasMaximum: kindUint16, PropTopicAlias: kindUint16, PropMaximumQoS: kindByte,
	PropRetainAvailable: kindByte, PropUserProperty: kindStringPair, PropMaximumPacketSize: kindUint32,
	PropWildcardSubAvailable: kindByte, PropSubIDAvailable: kindByte, PropSharedSubAvailable: kindByte,
}

// scalarProps are the properties whose presence is kept in the present
// mask; the others are present when their slice is non-nil or non-empty.
var scalarProps = bit(PropPayloadFormat) | bit(PropMessageExpiry) | bit(PropSessionExpiry) |
	bit(PropServerKeepAlive) | bit(PropRequestProblemInfo) | bit(PropWillDelay) |
	bit(PropRequestResponseInfo) | bit(PropReceiveMaximum) | bit(PropTopicAliasMaximum) |
	bit(PropTopicAlias) | bit(PropMaximumQoS) | bit(PropRetainAvailable) |
	bit(PropMaximumPacketSize) | bit(PropWildcardSubAvailable) | bit(PropSubIDAvailable) |
	bit(PropSharedSubAvailable)

// bytesField returns the field of a byte-slice (string or binary) property.
func (p *Properties) bytesField(id byte) *[]byte {
	switch id {
	case PropContentType:
		return &p.ContentType
	case PropResponseTopic:
		return &p.ResponseTopic
	case PropCorrelationData:
		return &p.CorrelationData
	case PropAssignedClientID:
		return &p.AssignedClientID
	case PropAuthMethod:
		return &p.AuthMethod
	case PropAuthData:
		return &p.AuthData
	case PropResponseInfo:
		return &p.ResponseInfo
	case PropServerReference:
		return &p.ServerReference
	case PropReasonString:
		return &p.ReasonString
	}
	return nil
}

// scalar returns the value of a scalar property.
func (p *Properties) scalar(id byte) uint32 {
	switch id {
	case PropPayloadFormat:
		return uint32(p.PayloadFormat)
	case PropMessageExpiry:
		return p.MessageExpiry
	case PropSessionExpiry:
		return p.SessionExpiry
	case PropServerKeepAlive:
		return uint32(p.ServerKeepAlive)
	case PropRequestProblemInfo:
		return uint32(p.RequestProblemInfo)
	case PropWillDelay:
		return p.WillDelay
	case PropRequestResponseInfo:
		return uint32(p.RequestResponseInfo)
	case PropReceiveMaximum:
		return uint32(p.ReceiveMaximum)
	case PropTopicAliasMaximum:
		return uint32(p.TopicAliasMaximum)
	case PropTopicAlias:
		return uint32(p.TopicAlias)
	case PropMaximumQoS:
		return uint32(p.MaximumQoS)
	case PropRetainAvailable:
		return uint32(p.RetainAvailable)
	case PropMaximumPacketSize:
		return p.MaximumPacketSize
	case PropWildcardSubAvailable:
		return uint32(p.WildcardSubAvailable)
	case PropSubIDAvailable:
		return uint32(p.SubIDAvailable)
	case PropSharedSubAvailable:
		return uint32(p.SharedSubAvailable)
	}
	return 0
}

// setScalar stores a decoded scalar property after checking its value.
func (p *Properties) setScalar(id byte, v uint32) error {
	switch id {
	case PropPayloadFormat:
		p.PayloadFormat = byte(v)
	case PropMessageExpiry:
		p.MessageExpiry = v
	case PropSessionExpiry:
		p.SessionExpiry = v
	case PropServerKeepAlive:
		p.ServerKeepAlive = uint16(v)
	case PropRequestProblemInfo:
		p.RequestProblemInfo = byte(v)
	case PropWillDelay:
		p.WillDelay = v
	case PropRequestResponseInfo:
		p.RequestResponseInfo = byte(v)
	case PropReceiveMaximum:
		if v == 0 {
			return errPropValue // [MQTT-3.1.2.11.3] [MQTT-3.2.2.3.3]
		}
		p.ReceiveMaximum = uint16(v)
	case PropTopicAliasMaximum:
		p.TopicAliasMaximum = uint16(v)
	case PropTopicAlias:
		if v == 0 {
			return errTopicAlias0 // [MQTT-3.3.2-8]
		}
		p.TopicAlias = uint16(v)
	case PropMaximumQoS:
		p.MaximumQoS = byte(v)
	case PropRetainAvailable:
		p.RetainAvailable = byte(v)
	case PropMaximumPacketSize:
		if v == 0 {
			return errPropValue // [MQTT-3.1.2.11.4] [MQTT-3.2.2.3.6]
		}
		p.MaximumPacketSize = v
	case PropWildcardSubAvailable:
		p.WildcardSubAvailable = byte(v)
	case PropSubIDAvailable:
		p.SubIDAvailable = byte(v)
	case PropSharedSubAvailable:
		p.SharedSubAvailable = byte(v)
	}
	p.present |= bit(id)
	return nil
}

// decodeProps resets p and decodes the property section (length and
// properties) at the start of b into it, returning the rest of b.
func decodeProps(b []byte, ctx propContext, p *Properties) ([]byte, error) {
	p.Reset()
	if len(b) > 0 && b[0] == 0 { // the common case: no properties
		return b[1:], nil
	}
	n, b, err := readVarint(b)
	if err != nil {
		return nil, err
	}
	if n > len(b) {
		return nil, errTruncated
	}
	section, rest := b[:n], b[n:]
	allowed, repeatable := propsAllowed[ctx], propsRepeatable(ctx)
	var seen uint64
	for len(section) > 0 {
		id := section[0]
		section = section[1:]
		if id >= 64 || allowed&bit(id) == 0 {
			return nil, errPropNotAllowed
		}
		if seen&bit(id) != 0 && repeatable&bit(id) == 0 {
			return nil, errPropDuplicate
		}
		seen |= bit(id)
		if section, err = p.decodeValue(id, section); err != nil {
			return nil, err
		}
	}
	if p.AuthData != nil && p.AuthMethod == nil {
		return nil, errAuthDataNoMethod // [MQTT-3.1.2.11.10] [MQTT-3.15.2.2.3]
	}
	if p.ResponseTopic != nil && checkTopicName(p.ResponseTopic) != nil {
		return nil, errResponseTopicWild // [MQTT-3.3.2-14]: UTF-8 was checked already
	}
	return rest, nil
}

// decodeValue decodes the value of property id at the start of b.
func (p *Properties) decodeValue(id byte, b []byte) ([]byte, error) {
	switch propKinds[id] {
	case kindByte:
		if len(b) < 1 {
			return nil, errTruncated
		}
		if b[0] > 1 {
			return nil, errPropValue
		}
		return b[1:], p.setScalar(id, uint32(b[0]))
	case kindUint16:
		if len(b) < 2 {
			return nil, errTruncated
		}
		return b[2:], p.setScalar(id, uint32(binary.BigEndian.Uint16(b)))
	case kindUint32:
		if len(b) < 4 {
			return nil, errTruncated
		}
		return b[4:], p.setScalar(id, binary.BigEndian.Uint32(b))
	case kindVarint: // Subscription Identifier, the only one
		v, rest, err := readVarint(b)
		if err != nil {
			return nil, err
		}
		if v == 0 {
			return nil, errSubIDZero // [MQTT-3.8.2.1.2]
		}
		p.SubscriptionIDs = append(p.SubscriptionIDs, uint32(v))
		return rest, nil
	case kindString:
		s, rest, err := readString(b)
		*p.bytesField(id) = s
		return rest, err
	case kindBinary:
		s, rest, err := readBinary(b)
		*p.bytesField(id) = s
		return rest, err
	default: // kindStringPair: User Property
		key, rest, err := readString(b)
		if err != nil {
			return nil, err
		}
		value, rest, err := readString(rest)
		if err != nil {
			return nil, err
		}
		p.UserProperties = append(p.UserProperties, UserProperty{Key: key, Value: value})
		return rest, nil
	}
}

// propsSize returns the size of the property section that appendProps
// writes for ctx, its length prefix excluded.
func propsSize(p *Properties, ctx propContext) int {
	if p.propsEmpty() {
		return 0
	}
	n := 0
	for m := propsAllowed[ctx]; m != 0; m &= m - 1 {
		id := byte(bits.TrailingZeros64(m))
		switch kind := propKinds[id]; kind {
		case kindString, kindBinary:
			if v := *p.bytesField(id); v != nil {
				n += 3 + len(v)
			}
		case kindVarint:
			for _, v := range p.SubscriptionIDs {
				n += 1 + VarintSize(int(v))
			}
		case kindStringPair:
			for _, u := range p.UserProperties {
				n += 5 + len(u.Key) + len(u.Value)
			}
		default:
			if p.present&bit(id) != 0 {
				n += 1 + scalarSize(kind)
			}
		}
	}
	return n
}

func scalarSize(k propKind) int {
	switch k {
	case kindUint16:
		return 2
	case kindUint32:
		return 4
	}
	return 1
}

// appendProps appends the property section for ctx, its length first. size
// is propsSize(p, ctx). Properties not allowed in ctx are left out, in
// identifier order, user properties in their order.
func appendProps(dst []byte, p *Properties, ctx propContext, size int) []byte {
	dst = AppendVarint(dst, size)
	if size == 0 {
		return dst
	}
	for m := propsAllowed[ctx]; m != 0; m &= m - 1 {
		id := byte(bits.TrailingZeros64(m))
		switch kind := propKinds[id]; kind {
		case kindString, kindBinary:
			if v := *p.bytesField(id); v != nil {
				dst = appendBinary(append(dst, id), v)
			}
		case kindVarint:
			for _, v := range p.SubscriptionIDs {
				dst = AppendVarint(append(dst, id), int(v))
			}
		case kindStringPair:
			for _, u := range p.UserProperties {
				dst = appendBinary(appendBinary(append(dst, id), u.Key), u.Value)
			}
		default:
			if p.present&bit(id) != 0 {
				dst = appendScalar(append(dst, id), kind, p.scalar(id))
			}
		}
	}
	return dst
}

func appendScalar(dst []byte, k propKind, v uint32) []byte {
	switch k {
	case kindUint16:
		return binary.BigEndian.AppendUint16(dst, uint16(v))
	case kindUint32:
		return binary.BigEndian.AppendUint32(dst, v)
	}
	return append(dst, byte(v))
}

// propsEmpty reports whether p has nothing to encode, in any packet.
func (p *Properties) propsEmpty() bool {
	return p.present == 0 && p.ContentType == nil && p.ResponseTopic == nil &&
		p.CorrelationData == nil && len(p.SubscriptionIDs) == 0 && p.AssignedClientID == nil &&
		p.AuthMethod == nil && p.AuthData == nil && p.ResponseInfo == nil &&
		p.ServerReference == nil && p.ReasonString == nil && len(p.UserProperties) == 0
}
