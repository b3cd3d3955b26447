package mqtt

// PUBLISH and PUBACK, PUBREC, PUBREL, PUBCOMP fixtures. Every byte is
// commented; "len" is a two-byte length prefix, "props" a property length.

var publishFixtures = []fixture{
	{
		name: "3.1.1 PUBLISH, QoS 0",
		v:    V311,
		raw: []byte{
			0x30, 7, // PUBLISH, QoS 0, remaining length 7
			0, 3, 'a', '/', 'b', // topic "a/b"
			'h', 'i', // payload "hi"
		},
		want: &Publish{Topic: b("a/b"), Payload: b("hi")},
	},
	{
		name: "3.1.1 PUBLISH, QoS 1, DUP, RETAIN",
		v:    V311,
		raw: []byte{
			0x3b, 6, // PUBLISH, flags 1011: DUP, QoS 1, RETAIN; remaining length 6
			0, 1, 't', // topic "t"
			0, 7, // packet identifier 7
			'x', // payload "x"
		},
		want: &Publish{Dup: true, QoS: 1, Retain: true, Topic: b("t"), PacketID: 7, Payload: b("x")},
	},
	{
		name: "3.1.1 PUBLISH, QoS 2, empty payload",
		v:    V311,
		raw: []byte{
			0x34, 7, // PUBLISH, QoS 2, remaining length 7
			0, 3, 'q', '/', '2', // topic "q/2"
			0x12, 0x34, // packet identifier 0x1234; no payload
		},
		want: &Publish{QoS: 2, Topic: b("q/2"), PacketID: 0x1234, Payload: []byte{}},
	},
	{
		name: "3.1.1 PUBLISH, UTF-8 topic",
		v:    V311,
		raw: []byte{
			0x30, 7, // PUBLISH, QoS 0, remaining length 7
			0, 5, 0xc3, 0xa9, '/', 0xc3, 0xbc, // topic "é/ü"
		},
		want: &Publish{Topic: b("é/ü"), Payload: []byte{}},
	},
	{
		name: "5.0 PUBLISH, QoS 0, no properties",
		v:    V5,
		raw: []byte{
			0x30, 8, // PUBLISH, QoS 0, remaining length 8
			0, 3, 'a', '/', 'b', // topic "a/b"
			0,        // props 0
			'h', 'i', // payload "hi"
		},
		want: &Publish{Topic: b("a/b"), Payload: b("hi")},
	},
	{
		name: "5.0 PUBLISH, QoS 1, every property",
		v:    V5,
		raw: []byte{
			0x32, 62, // PUBLISH, QoS 1, remaining length 62
			0, 3, 's', '/', '1', // topic "s/1"
			0, 1, // packet identifier 1
			52,      // props 52
			0x01, 1, // payload format indicator 1: UTF-8
			0x02, 0, 0, 1, 0, // message expiry interval 256 s
			0x03, 0, 4, 'j', 's', 'o', 'n', // content type "json"
			0x08, 0, 6, 'r', 'e', '/', 'p', 'l', 'y', // response topic "re/ply"
			0x09, 0, 3, 1, 2, 3, // correlation data 01 02 03
			0x0b, 1, // subscription identifier 1
			0x0b, 0xac, 0x02, // subscription identifier 300, two bytes
			0x26, 0, 1, 'k', 0, 1, 'v', // user property k=v
			0x26, 0, 3, 0xe5, 0x90, 0x8d, 0, 3, 0xe5, 0x80, 0xa4, // user property 名=値
			'{', '}', // payload "{}"
		},
		want: &Publish{QoS: 1, Topic: b("s/1"), PacketID: 1, Payload: b("{}"), Props: pr(Properties{
			PayloadFormat: 1, MessageExpiry: 256, ContentType: b("json"), ResponseTopic: b("re/ply"),
			CorrelationData: []byte{1, 2, 3}, SubscriptionIDs: []uint32{1, 300},
			UserProperties: []UserProperty{{b("k"), b("v")}, {b("名"), b("値")}}},
			PropPayloadFormat, PropMessageExpiry)},
	},
	{
		name: "5.0 PUBLISH, topic alias, empty topic",
		v:    V5,
		raw: []byte{
			0x30, 7, // PUBLISH, QoS 0, remaining length 7
			0, 0, // topic "": the alias names it [MQTT-3.3.2-1]
			3,          // props 3
			0x23, 0, 5, // topic alias 5
			'z', // payload "z"
		},
		want: &Publish{Topic: []byte{}, Payload: b("z"), Props: pr(Properties{TopicAlias: 5}, PropTopicAlias)},
	},
	{
		name: "5.0 PUBLISH, topic and topic alias",
		v:    V5,
		raw: []byte{
			0x30, 7, // PUBLISH, QoS 0, remaining length 7
			0, 1, 'a', // topic "a"
			3,          // props 3
			0x23, 0, 2, // topic alias 2: sets the alias for "a"; no payload
		},
		want: &Publish{Topic: b("a"), Payload: []byte{}, Props: pr(Properties{TopicAlias: 2}, PropTopicAlias)},
	},
	{
		name: "5.0 PUBLISH, properties out of order",
		v:    V5,
		raw: []byte{
			0x30, 9, // PUBLISH, QoS 0, remaining length 9
			0, 1, 't', // topic "t"
			5,          // props 5
			0x23, 0, 1, // topic alias 1
			0x01, 1, // payload format indicator 1: encoders write it first
		},
		want: &Publish{Topic: b("t"), Payload: []byte{}, Props: pr(Properties{TopicAlias: 1, PayloadFormat: 1},
			PropTopicAlias, PropPayloadFormat)},
		nonCanonical: true,
	},

	// Invalid PUBLISH packets.
	{
		name: "PUBLISH, QoS 3",
		v:    V311,
		raw: []byte{
			0x36, 5, // PUBLISH, flags 0110: QoS 3 [MQTT-3.3.1-4]
			0, 3, 'a', '/', 'b', // topic "a/b"
		},
		err: errPublishQoS3,
	},
	{
		name: "PUBLISH, DUP on QoS 0",
		v:    V5,
		raw: []byte{
			0x38, 6, // PUBLISH, flags 1000: DUP with QoS 0 [MQTT-3.3.1-2]
			0, 3, 'a', '/', 'b', // topic "a/b"
			0, // props 0
		},
		err: errDupQoS0,
	},
	{
		name: "PUBLISH, QoS 1, packet identifier 0",
		v:    V311,
		raw: []byte{
			0x32, 5, // PUBLISH, QoS 1, remaining length 5
			0, 1, 't', // topic "t"
			0, 0, // packet identifier 0 [MQTT-2.2.1-3]
		},
		err: errPacketIDZero,
	},
	{
		name: "PUBLISH, QoS 1, packet identifier missing",
		v:    V5,
		raw: []byte{
			0x32, 3, // PUBLISH, QoS 1, remaining length 3
			0, 1, 't', // topic "t", then nothing
		},
		err: errTruncated,
	},
	{
		name: "PUBLISH, topic with +",
		v:    V311,
		raw: []byte{
			0x30, 5, // PUBLISH, QoS 0, remaining length 5
			0, 3, 'a', '/', '+', // topic "a/+": wildcard in a topic name [MQTT-3.3.2-2]
		},
		err: ErrTopicNameInvalid,
	},
	{
		name: "5.0 PUBLISH, topic #",
		v:    V5,
		raw: []byte{
			0x30, 4, // PUBLISH, QoS 0, remaining length 4
			0, 1, '#', // topic "#": wildcard in a topic name [MQTT-3.3.2-2]
			0, // props 0
		},
		err: ErrTopicNameInvalid,
	},
	{
		name: "3.1.1 PUBLISH, empty topic",
		v:    V311,
		raw: []byte{
			0x30, 3, // PUBLISH, QoS 0, remaining length 3
			0, 0, // topic "" [MQTT-4.7.3-1]
			'x', // payload "x"
		},
		err: ErrTopicNameInvalid,
	},
	{
		name: "5.0 PUBLISH, empty topic without topic alias",
		v:    V5,
		raw: []byte{
			0x30, 4, // PUBLISH, QoS 0, remaining length 4
			0, 0, // topic ""
			0,   // props 0: no topic alias to name the topic
			'x', // payload "x"
		},
		err: errEmptyTopicNoAlias,
	},
	{
		name: "PUBLISH, topic length past the packet",
		v:    V311,
		raw: []byte{
			0x30, 3, // PUBLISH, QoS 0, remaining length 3
			0, 5, 'a', // topic of length 5, but only 1 byte follows
		},
		err: errTruncated,
	},
	{
		name: "PUBLISH, topic with ill-formed UTF-8",
		v:    V311,
		raw: []byte{
			0x30, 4, // PUBLISH, QoS 0, remaining length 4
			0, 2, 0xff, 'a', // topic: FF never occurs in UTF-8
		},
		err: errBadUTF8,
	},
	{
		name: "5.0 PUBLISH, topic alias 0",
		v:    V5,
		raw: []byte{
			0x30, 7, // PUBLISH, QoS 0, remaining length 7
			0, 1, 't', // topic "t"
			3,          // props 3
			0x23, 0, 0, // topic alias 0 [MQTT-3.3.2-8]
		},
		err: errTopicAlias0,
	},
	{
		name: "5.0 PUBLISH, subscription identifier 0",
		v:    V5,
		raw: []byte{
			0x30, 6, // PUBLISH, QoS 0, remaining length 6
			0, 1, 't', // topic "t"
			2,       // props 2
			0x0b, 0, // subscription identifier 0: a Protocol Error
		},
		err: errSubIDZero,
	},
	{
		name: "5.0 PUBLISH, subscription identifier of 5 bytes",
		v:    V5,
		raw: []byte{
			0x30, 10, // PUBLISH, QoS 0, remaining length 10
			0, 1, 't', // topic "t"
			6,                            // props 6
			0x0b, 0x80, 0x80, 0x80, 0x80, // subscription identifier: four bytes with continuation bits
			0x01, // ... and a fifth [MQTT-1.5.5]
		},
		err: ErrMalformedLength,
	},
	{
		name: "5.0 PUBLISH, subscription identifier not in shortest form",
		v:    V5,
		raw: []byte{
			0x30, 7, // PUBLISH, QoS 0, remaining length 7
			0, 1, 't', // topic "t"
			3,                // props 3
			0x0b, 0x81, 0x00, // subscription identifier 1 in two bytes [MQTT-1.5.5-1]
		},
		err: ErrMalformedLength,
	},
	{
		name: "5.0 PUBLISH, session expiry property",
		v:    V5,
		raw: []byte{
			0x30, 9, // PUBLISH, QoS 0, remaining length 9
			0, 1, 't', // topic "t"
			5,                // props 5
			0x11, 0, 0, 0, 1, // session expiry interval: not a PUBLISH property
		},
		err: errPropNotAllowed,
	},
	{
		name: "5.0 PUBLISH, payload format twice",
		v:    V5,
		raw: []byte{
			0x30, 8, // PUBLISH, QoS 0, remaining length 8
			0, 1, 't', // topic "t"
			4,       // props 4
			0x01, 0, // payload format indicator 0
			0x01, 1, // payload format indicator again: a Protocol Error
		},
		err: errPropDuplicate,
	},
	{
		name: "5.0 PUBLISH, payload format 2",
		v:    V5,
		raw: []byte{
			0x30, 6, // PUBLISH, QoS 0, remaining length 6
			0, 1, 't', // topic "t"
			2,       // props 2
			0x01, 2, // payload format indicator 2: only 0 and 1 exist
		},
		err: errPropValue,
	},
	{
		name: "5.0 PUBLISH, response topic with wildcard",
		v:    V5,
		raw: []byte{
			0x30, 9, // PUBLISH, QoS 0, remaining length 9
			0, 1, 't', // topic "t"
			5,                    // props 5
			0x08, 0, 2, 'r', '+', // response topic "r+": wildcard [MQTT-3.3.2-14]
		},
		err: errResponseTopicWild,
	},
	{
		name: "5.0 PUBLISH, content type with ill-formed UTF-8",
		v:    V5,
		raw: []byte{
			0x30, 8, // PUBLISH, QoS 0, remaining length 8
			0, 1, 't', // topic "t"
			4,                // props 4
			0x03, 0, 1, 0x80, // content type: a lone continuation byte
		},
		err: errBadUTF8,
	},
	{
		name: "5.0 PUBLISH, user property without value",
		v:    V5,
		raw: []byte{
			0x30, 8, // PUBLISH, QoS 0, remaining length 8
			0, 1, 't', // topic "t"
			4,               // props 4
			0x26, 0, 1, 'k', // user property key "k", then the section ends
		},
		err: errTruncated,
	},
	{
		name: "5.0 PUBLISH, message expiry cut short",
		v:    V5,
		raw: []byte{
			0x30, 6, // PUBLISH, QoS 0, remaining length 6
			0, 1, 't', // topic "t"
			2,       // props 2
			0x02, 0, // message expiry interval: 1 of its 4 bytes
		},
		err: errTruncated,
	},
}

var ackFixtures = []fixture{
	{
		name: "3.1.1 PUBACK",
		v:    V311,
		raw: []byte{
			0x40, 2, // PUBACK, remaining length 2
			0, 1, // packet identifier 1
		},
		want: &Ack{Type: PUBACK, PacketID: 1},
	},
	{
		name: "3.1.1 PUBREC",
		v:    V311,
		raw: []byte{
			0x50, 2, // PUBREC, remaining length 2
			0, 2, // packet identifier 2
		},
		want: &Ack{Type: PUBREC, PacketID: 2},
	},
	{
		name: "3.1.1 PUBREL",
		v:    V311,
		raw: []byte{
			0x62, 2, // PUBREL, flags 0010 [MQTT-3.6.1-1], remaining length 2
			0, 3, // packet identifier 3
		},
		want: &Ack{Type: PUBREL, PacketID: 3},
	},
	{
		name: "3.1.1 PUBCOMP",
		v:    V311,
		raw: []byte{
			0x70, 2, // PUBCOMP, remaining length 2
			0, 4, // packet identifier 4
		},
		want: &Ack{Type: PUBCOMP, PacketID: 4},
	},
	{
		name: "5.0 PUBACK, short form",
		v:    V5,
		raw: []byte{
			0x40, 2, // PUBACK, remaining length 2
			1, 0, // packet identifier 256; success and no properties are implied [MQTT-3.4.2.1]
		},
		want: &Ack{Type: PUBACK, PacketID: 256},
	},
	{
		name: "5.0 PUBACK, reason code only",
		v:    V5,
		raw: []byte{
			0x40, 3, // PUBACK, remaining length 3
			0, 5, // packet identifier 5
			0x10, // reason code: no matching subscribers; no property length [MQTT-3.4.2.2.1]
		},
		want: &Ack{Type: PUBACK, PacketID: 5, Reason: NoMatchingSubscribers},
	},
	{
		name: "5.0 PUBREC, reason code and properties",
		v:    V5,
		raw: []byte{
			0x50, 19, // PUBREC, remaining length 19
			0, 9, // packet identifier 9
			0x97,                                // reason code: quota exceeded
			15,                                  // props 15
			0x1f, 0, 5, 'q', 'u', 'o', 't', 'a', // reason string "quota"
			0x26, 0, 1, 'k', 0, 1, 'v', // user property k=v
		},
		want: &Ack{Type: PUBREC, PacketID: 9, Reason: QuotaExceeded, Props: Properties{
			ReasonString: b("quota"), UserProperties: []UserProperty{{b("k"), b("v")}}}},
	},
	{
		name: "5.0 PUBREL, packet identifier not found",
		v:    V5,
		raw: []byte{
			0x62, 3, // PUBREL, flags 0010, remaining length 3
			0, 6, // packet identifier 6
			0x92, // reason code: packet identifier not found
		},
		want: &Ack{Type: PUBREL, PacketID: 6, Reason: PacketIDNotFound},
	},
	{
		name: "5.0 PUBCOMP, short form",
		v:    V5,
		raw: []byte{
			0x70, 2, // PUBCOMP, remaining length 2
			0, 7, // packet identifier 7
		},
		want: &Ack{Type: PUBCOMP, PacketID: 7},
	},
	{
		name: "5.0 PUBACK, long form of success",
		v:    V5,
		raw: []byte{
			0x40, 4, // PUBACK, remaining length 4
			0, 8, // packet identifier 8
			0x00, // reason code: success
			0,    // props 0: encoders use the 2-byte form instead
		},
		want:         &Ack{Type: PUBACK, PacketID: 8},
		nonCanonical: true,
	},

	// Invalid acknowledgements.
	{
		name: "3.1.1 PUBACK with a reason code",
		v:    V311,
		raw: []byte{
			0x40, 3, // PUBACK, remaining length 3: 3.1.1 has exactly 2
			0, 1, // packet identifier 1
			0x00, // a reason code, MQTT 5 only
		},
		err: errTrailing,
	},
	{
		name: "PUBACK, packet identifier 0",
		v:    V311,
		raw: []byte{
			0x40, 2, // PUBACK, remaining length 2
			0, 0, // packet identifier 0: acknowledges nothing
		},
		err: errPacketIDZero,
	},
	{
		name: "PUBACK, packet identifier cut short",
		v:    V5,
		raw: []byte{
			0x40, 1, // PUBACK, remaining length 1
			0, // one byte of the packet identifier
		},
		err: errTruncated,
	},
	{
		name: "PUBACK with fixed header flags",
		v:    V311,
		raw: []byte{
			0x41, 2, // PUBACK, flags 0001: reserved, must be 0
			0, 1, // packet identifier 1
		},
		err: errBadFlags,
	},
	{
		name: "PUBREL without its flags",
		v:    V5,
		raw: []byte{
			0x60, 2, // PUBREL, flags 0000: must be 0010 [MQTT-3.6.1-1]
			0, 1, // packet identifier 1
		},
		err: errBadFlags,
	},
	{
		name: "5.0 PUBACK, reason code 0x92",
		v:    V5,
		raw: []byte{
			0x40, 3, // PUBACK, remaining length 3
			0, 1, // packet identifier 1
			0x92, // packet identifier not found: a PUBREL/PUBCOMP code only
		},
		err: errReasonCode,
	},
	{
		name: "5.0 PUBREL, reason code 0x10",
		v:    V5,
		raw: []byte{
			0x62, 3, // PUBREL, flags 0010, remaining length 3
			0, 1, // packet identifier 1
			0x10, // no matching subscribers: a PUBACK/PUBREC code only
		},
		err: errReasonCode,
	},
	{
		name: "5.0 PUBACK, topic alias property",
		v:    V5,
		raw: []byte{
			0x40, 7, // PUBACK, remaining length 7
			0, 1, // packet identifier 1
			0x00,       // reason code: success
			3,          // props 3
			0x23, 0, 1, // topic alias: not an acknowledgement property
		},
		err: errPropNotAllowed,
	},
	{
		name: "5.0 PUBREC, reason string twice",
		v:    V5,
		raw: []byte{
			0x50, 12, // PUBREC, remaining length 12
			0, 1, // packet identifier 1
			0x80,            // reason code: unspecified error
			8,               // props 8
			0x1f, 0, 1, 'a', // reason string "a"
			0x1f, 0, 1, 'b', // reason string again: a Protocol Error
		},
		err: errPropDuplicate,
	},
	{
		name: "5.0 PUBACK, property length past the packet",
		v:    V5,
		raw: []byte{
			0x40, 4, // PUBACK, remaining length 4
			0, 1, // packet identifier 1
			0x00, // reason code: success
			5,    // props 5, but no byte follows
		},
		err: errTruncated,
	},
	{
		name: "5.0 PUBCOMP, bytes after the properties",
		v:    V5,
		raw: []byte{
			0x70, 5, // PUBCOMP, remaining length 5
			0, 1, // packet identifier 1
			0x00, // reason code: success
			0,    // props 0
			'x',  // a byte no field accounts for
		},
		err: errTrailing,
	},
}
