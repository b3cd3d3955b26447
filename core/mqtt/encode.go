package mqtt

import "encoding/binary"

// Encoding conventions, for every Append function:
//   - the packet is appended to dst and the extended slice returned; when
//     dst has the capacity, nothing is allocated;
//   - v selects the protocol: V5, or MQTT 3.1.1 for any other value; MQTT 5
//     fields (properties, reason codes, subscription options beyond QoS)
//     are left out of 3.1.1 packets;
//   - the packet is written as given: the caller keeps it valid (strings at
//     most 65535 bytes, packet identifiers non-zero, a remaining length at
//     most MaxRemainingLength, ...). Properties the packet type does not
//     allow are left out.

// appendUint16 appends n big-endian.
func appendUint16(dst []byte, n uint16) []byte { return binary.BigEndian.AppendUint16(dst, n) }

// appendBinary appends b with its two-byte length prefix [MQTT-1.5.6].
func appendBinary(dst, b []byte) []byte {
	return append(appendUint16(dst, uint16(len(b))), b...)
}

// appendHeader appends a fixed header.
func appendHeader(dst []byte, t Type, flags byte, remaining int) []byte {
	return AppendVarint(append(dst, byte(t)<<4|flags), remaining)
}

// propsSection returns, for MQTT 5, the size of the properties of p allowed
// in ctx and of their whole section (length prefix included); 0, 0 for
// MQTT 3.1.1.
func propsSection(v Version, p *Properties, ctx propContext) (size, section int) {
	if v != V5 {
		return 0, 0
	}
	size = propsSize(p, ctx)
	return size, VarintSize(size) + size
}

// appendPropsV appends the property section for MQTT 5 and nothing for 3.1.1.
func appendPropsV(dst []byte, v Version, p *Properties, ctx propContext, size int) []byte {
	if v != V5 {
		return dst
	}
	return appendProps(dst, p, ctx, size)
}

func boolBit(b bool, bit byte) byte {
	if b {
		return bit
	}
	return 0
}

// AppendConnect appends a CONNECT packet for c.Version: MQTT 5 for V5,
// otherwise 3.1.1. Username and Password are written when HasUsername and
// HasPassword are set; the will (and, in MQTT 5, its properties) when
// WillFlag is set.
func AppendConnect(dst []byte, c *Connect) []byte {
	v := c.Version
	if v != V5 {
		v = V311
	}
	propsSize, section := propsSection(v, &c.Props, ctxConnect)
	remaining := 10 + section + 2 + len(c.ClientID) // name, level, flags, keep alive
	flags := boolBit(c.CleanStart, 0x02) | boolBit(c.HasPassword, 0x40) | boolBit(c.HasUsername, 0x80)
	var willSize, willSection int
	if c.WillFlag {
		flags |= 0x04 | byte(c.WillQoS&3)<<3 | boolBit(c.WillRetain, 0x20)
		willSize, willSection = propsSection(v, &c.WillProps, ctxWill)
		remaining += willSection + 4 + len(c.WillTopic) + len(c.WillPayload)
	}
	if c.HasUsername {
		remaining += 2 + len(c.Username)
	}
	if c.HasPassword {
		remaining += 2 + len(c.Password)
	}

	dst = appendHeader(dst, CONNECT, 0, remaining)
	dst = append(dst, 0, 4, 'M', 'Q', 'T', 'T', byte(v), flags)
	dst = appendUint16(dst, c.KeepAlive)
	dst = appendPropsV(dst, v, &c.Props, ctxConnect, propsSize)
	dst = appendBinary(dst, c.ClientID)
	if c.WillFlag {
		dst = appendPropsV(dst, v, &c.WillProps, ctxWill, willSize)
		dst = appendBinary(dst, c.WillTopic)
		dst = appendBinary(dst, c.WillPayload)
	}
	if c.HasUsername {
		dst = appendBinary(dst, c.Username)
	}
	if c.HasPassword {
		dst = appendBinary(dst, c.Password)
	}
	return dst
}

// AppendConnack appends a CONNACK packet. In 3.1.1, Reason must be a return
// code (0 to 5) and Props are not written.
func AppendConnack(dst []byte, v Version, c *Connack) []byte {
	propsSize, section := propsSection(v, &c.Props, ctxConnack)
	dst = appendHeader(dst, CONNACK, 0, 2+section)
	dst = append(dst, boolBit(c.SessionPresent, 1), byte(c.Reason))
	return appendPropsV(dst, v, &c.Props, ctxConnack, propsSize)
}

// publishRemaining returns a PUBLISH packet's remaining length and the size
// of its properties.
func publishRemaining(v Version, p *Publish) (remaining, propsSize int) {
	propsSize, section := propsSection(v, &p.Props, ctxPublish)
	remaining = 2 + len(p.Topic) + section + len(p.Payload)
	if p.QoS > 0 {
		remaining += 2
	}
	return remaining, propsSize
}

// PublishSize returns the size of the packet AppendPublish(nil, v, p) would
// write, fixed header included: what a Maximum Packet Size is compared with
// [MQTT-3.1.2-24].
func PublishSize(v Version, p *Publish) int {
	remaining, _ := publishRemaining(v, p)
	return 1 + VarintSize(remaining) + remaining
}

// AppendPublish appends a PUBLISH packet. The packet identifier is written
// only when QoS > 0.
func AppendPublish(dst []byte, v Version, p *Publish) []byte {
	remaining, propsSize := publishRemaining(v, p)
	flags := boolBit(p.Dup, 0b1000) | byte(p.QoS&3)<<1 | boolBit(p.Retain, 1)
	dst = appendHeader(dst, PUBLISH, flags, remaining)
	dst = appendBinary(dst, p.Topic)
	if p.QoS > 0 {
		dst = appendUint16(dst, p.PacketID)
	}
	dst = appendPropsV(dst, v, &p.Props, ctxPublish, propsSize)
	return append(dst, p.Payload...)
}

// AppendAck appends a PUBACK, PUBREC, PUBREL or PUBCOMP packet of type
// a.Type, which must be one of the four. In MQTT 5 the reason code and properties are left out when the
// code is Success and there are no properties, and the properties when
// there are none [MQTT-3.4.2.1].
func AppendAck(dst []byte, v Version, a *Ack) []byte {
	var flags byte
	if a.Type == PUBREL {
		flags = 0b0010 // [MQTT-3.6.1-1]
	}
	propsSize, section := propsSection(v, &a.Props, ctxAck)
	remaining := 2 + reasonAndPropsSize(v, a.Reason, propsSize, section)
	dst = appendHeader(dst, a.Type, flags, remaining)
	dst = appendUint16(dst, a.PacketID)
	return appendReasonAndProps(dst, v, a.Reason, &a.Props, ctxAck, propsSize)
}

// reasonAndPropsSize returns the size of the optional reason code and
// property section that end acknowledgements and DISCONNECT in MQTT 5.
func reasonAndPropsSize(v Version, r ReasonCode, propsSize, section int) int {
	switch {
	case v != V5 || (r == Success && propsSize == 0):
		return 0
	case propsSize == 0:
		return 1
	}
	return 1 + section
}

func appendReasonAndProps(dst []byte, v Version, r ReasonCode, p *Properties, ctx propContext, propsSize int) []byte {
	switch {
	case v != V5 || (r == Success && propsSize == 0):
		return dst
	case propsSize == 0:
		return append(dst, byte(r))
	}
	return appendProps(append(dst, byte(r)), p, ctx, propsSize)
}

// AppendSubscribe appends a SUBSCRIBE packet. In 3.1.1 only each filter's
// QoS is written of its options.
func AppendSubscribe(dst []byte, v Version, s *Subscribe) []byte {
	propsSize, section := propsSection(v, &s.Props, ctxSubscribe)
	remaining := 2 + section
	for i := range s.Filters {
		remaining += 3 + len(s.Filters[i].Filter)
	}
	dst = appendHeader(dst, SUBSCRIBE, 0b0010, remaining) // [MQTT-3.8.1-1]
	dst = appendUint16(dst, s.PacketID)
	dst = appendPropsV(dst, v, &s.Props, ctxSubscribe, propsSize)
	for i := range s.Filters {
		sub := &s.Filters[i]
		opts := byte(sub.QoS & 3)
		if v == V5 {
			opts |= boolBit(sub.NoLocal, 0x04) | boolBit(sub.RetainAsPublished, 0x08) | (sub.RetainHandling&3)<<4
		}
		dst = append(appendBinary(dst, sub.Filter), opts)
	}
	return dst
}

// AppendSuback appends a SUBACK packet, one reason code per filter.
func AppendSuback(dst []byte, v Version, s *Suback) []byte {
	return appendAckList(dst, v, SUBACK, s.PacketID, &s.Props, ctxSuback, s.Reasons)
}

// appendAckList appends a SUBACK or UNSUBACK: packet identifier, MQTT 5
// properties, reason codes.
func appendAckList(dst []byte, v Version, t Type, id uint16, p *Properties, ctx propContext, reasons []ReasonCode) []byte {
	propsSize, section := propsSection(v, p, ctx)
	dst = appendHeader(dst, t, 0, 2+section+len(reasons))
	dst = appendUint16(dst, id)
	dst = appendPropsV(dst, v, p, ctx, propsSize)
	for _, r := range reasons {
		dst = append(dst, byte(r))
	}
	return dst
}

// AppendUnsubscribe appends an UNSUBSCRIBE packet.
func AppendUnsubscribe(dst []byte, v Version, u *Unsubscribe) []byte {
	propsSize, section := propsSection(v, &u.Props, ctxUnsubscribe)
	remaining := 2 + section
	for _, f := range u.Filters {
		remaining += 2 + len(f)
	}
	dst = appendHeader(dst, UNSUBSCRIBE, 0b0010, remaining) // [MQTT-3.10.1-1]
	dst = appendUint16(dst, u.PacketID)
	dst = appendPropsV(dst, v, &u.Props, ctxUnsubscribe, propsSize)
	for _, f := range u.Filters {
		dst = appendBinary(dst, f)
	}
	return dst
}

// AppendUnsuback appends an UNSUBACK packet; in 3.1.1 it carries only the
// packet identifier.
func AppendUnsuback(dst []byte, v Version, u *Unsuback) []byte {
	reasons := u.Reasons
	if v != V5 {
		reasons = nil
	}
	return appendAckList(dst, v, UNSUBACK, u.PacketID, &u.Props, ctxUnsuback, reasons)
}

// AppendPingreq appends a PINGREQ packet.
func AppendPingreq(dst []byte) []byte { return append(dst, byte(PINGREQ)<<4, 0) }

// AppendPingresp appends a PINGRESP packet.
func AppendPingresp(dst []byte) []byte { return append(dst, byte(PINGRESP)<<4, 0) }

// AppendDisconnect appends a DISCONNECT packet: 2 bytes in 3.1.1; in MQTT 5
// the reason code is left out when it is Success and there are no
// properties, and the properties when there are none [MQTT-3.14.2.1].
func AppendDisconnect(dst []byte, v Version, d *Disconnect) []byte {
	propsSize, section := propsSection(v, &d.Props, ctxDisconnect)
	dst = appendHeader(dst, DISCONNECT, 0, reasonAndPropsSize(v, d.Reason, propsSize, section))
	return appendReasonAndProps(dst, v, d.Reason, &d.Props, ctxDisconnect, propsSize)
}

// AppendAuth appends an MQTT 5 AUTH packet: 2 bytes when the reason code is
// Success and there are no properties [MQTT-3.15.2.1], otherwise the reason
// code and the property section.
func AppendAuth(dst []byte, a *Auth) []byte {
	propsSize, section := propsSection(V5, &a.Props, ctxAuth)
	if a.Reason == Success && propsSize == 0 {
		return append(dst, byte(AUTH)<<4, 0)
	}
	dst = appendHeader(dst, AUTH, 0, 1+section)
	return appendProps(append(dst, byte(a.Reason)), &a.Props, ctxAuth, propsSize)
}
