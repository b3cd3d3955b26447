package mqtt

// SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK fixtures. Every byte is
// commented; "len" is a two-byte length prefix, "props" a property length.

var subscribeFixtures = []fixture{
	{
		name: "3.1.1 SUBSCRIBE, two filters",
		v:    V311,
		raw: []byte{
			0x82, 12, // SUBSCRIBE, flags 0010 [MQTT-3.8.1-1], remaining length 12
			0, 10, // packet identifier 10
			0, 3, 'a', '/', '+', // filter "a/+"
			0x01,      // options: QoS 1
			0, 1, '#', // filter "#"
			0x02, // options: QoS 2
		},
		want: &Subscribe{PacketID: 10, Filters: []Subscription{{Filter: b("a/+"), QoS: 1}, {Filter: b("#"), QoS: 2}}},
	},
	{
		name: "5.0 SUBSCRIBE, options, identifier, shared subscription",
		v:    V5,
		raw: []byte{
			0x82, 32, // SUBSCRIBE, flags 0010, remaining length 32
			0, 12, // packet identifier 12
			10,               // props 10
			0x0b, 0x80, 0x01, // subscription identifier 128
			0x26, 0, 1, 'k', 0, 1, 'v', // user property k=v
			0, 3, 'x', '/', '#', // filter "x/#"
			0x2d,                                                    // options: retain handling 2, retain as published, no local, QoS 1
			0, 10, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 'y', // filter "$share/g/y"
			0x12, // options: retain handling 1, QoS 2
		},
		want: &Subscribe{PacketID: 12,
			Props: Properties{SubscriptionIDs: []uint32{128}, UserProperties: []UserProperty{{b("k"), b("v")}}},
			Filters: []Subscription{
				{Filter: b("x/#"), QoS: 1, NoLocal: true, RetainAsPublished: true, RetainHandling: 2},
				{Filter: b("$share/g/y"), QoS: 2, RetainHandling: 1},
			}},
	},
	{
		name: "3.1.1 SUBACK",
		v:    V311,
		raw: []byte{
			0x90, 4, // SUBACK, remaining length 4
			0, 10, // packet identifier 10
			0x01, // granted QoS 1
			0x80, // failure
		},
		want: &Suback{PacketID: 10, Reasons: []ReasonCode{GrantedQoS1, V311SubackFailure}},
	},
	{
		name: "5.0 SUBACK, reason string",
		v:    V5,
		raw: []byte{
			0x90, 10, // SUBACK, remaining length 10
			0, 12, // packet identifier 12
			5,                    // props 5
			0x1f, 0, 2, 'n', 'o', // reason string "no"
			0x01, // granted QoS 1
			0xa2, // wildcard subscriptions not supported
		},
		want: &Suback{PacketID: 12, Props: Properties{ReasonString: b("no")},
			Reasons: []ReasonCode{GrantedQoS1, WildcardSubsNotSupported}},
	},
	{
		name: "3.1.1 UNSUBSCRIBE",
		v:    V311,
		raw: []byte{
			0xa2, 10, // UNSUBSCRIBE, flags 0010 [MQTT-3.10.1-1], remaining length 10
			0, 10, // packet identifier 10
			0, 3, 'a', '/', '+', // filter "a/+"
			0, 1, '#', // filter "#"
		},
		want: &Unsubscribe{PacketID: 10, Filters: [][]byte{b("a/+"), b("#")}},
	},
	{
		name: "5.0 UNSUBSCRIBE, user property",
		v:    V5,
		raw: []byte{
			0xa2, 27, // UNSUBSCRIBE, flags 0010, remaining length 27
			0, 13, // packet identifier 13
			7,                          // props 7
			0x26, 0, 1, 'k', 0, 1, 'v', // user property k=v
			0, 3, 'x', '/', '#', // filter "x/#"
			0, 10, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 'y', // filter "$share/g/y"
		},
		want: &Unsubscribe{PacketID: 13, Props: Properties{UserProperties: []UserProperty{{b("k"), b("v")}}},
			Filters: [][]byte{b("x/#"), b("$share/g/y")}},
	},
	{
		name: "3.1.1 UNSUBACK",
		v:    V311,
		raw: []byte{
			0xb0, 2, // UNSUBACK, remaining length 2
			0, 11, // packet identifier 11
		},
		want: &Unsuback{PacketID: 11},
	},
	{
		name: "5.0 UNSUBACK",
		v:    V5,
		raw: []byte{
			0xb0, 5, // UNSUBACK, remaining length 5
			0, 13, // packet identifier 13
			0,    // props 0
			0x00, // success
			0x11, // no subscription existed
		},
		want: &Unsuback{PacketID: 13, Reasons: []ReasonCode{Success, NoSubscriptionExisted}},
	},

	// Invalid SUBSCRIBE packets.
	{
		name: "SUBSCRIBE without its flags",
		v:    V311,
		raw: []byte{
			0x80, 6, // SUBSCRIBE, flags 0000: must be 0010 [MQTT-3.8.1-1]
			0, 1, // packet identifier 1
			0, 1, 'a', // filter "a"
			0x00, // options: QoS 0
		},
		err: errBadFlags,
	},
	{
		name: "SUBSCRIBE, packet identifier 0",
		v:    V311,
		raw: []byte{
			0x82, 6, // SUBSCRIBE, remaining length 6
			0, 0, // packet identifier 0 [MQTT-2.2.1-3]
			0, 1, 'a', // filter "a"
			0x00, // options: QoS 0
		},
		err: errPacketIDZero,
	},
	{
		name: "3.1.1 SUBSCRIBE, no topic filter",
		v:    V311,
		raw: []byte{
			0x82, 2, // SUBSCRIBE, remaining length 2
			0, 1, // packet identifier 1, then no filter [MQTT-3.8.3-3]
		},
		err: errNoFilters,
	},
	{
		name: "5.0 SUBSCRIBE, no topic filter",
		v:    V5,
		raw: []byte{
			0x82, 3, // SUBSCRIBE, remaining length 3
			0, 1, // packet identifier 1
			0, // props 0, then no filter [MQTT-3.8.3-2]
		},
		err: errNoFilters,
	},
	{
		name: "3.1.1 SUBSCRIBE, reserved option bits",
		v:    V311,
		raw: []byte{
			0x82, 6, // SUBSCRIBE, remaining length 6
			0, 1, // packet identifier 1
			0, 1, 'a', // filter "a"
			0x04, // options: bit 2 is reserved in 3.1.1 [MQTT-3-8.3-4]
		},
		err: errSubReservedBits,
	},
	{
		name: "3.1.1 SUBSCRIBE, QoS 3",
		v:    V311,
		raw: []byte{
			0x82, 6, // SUBSCRIBE, remaining length 6
			0, 1, // packet identifier 1
			0, 1, 'a', // filter "a"
			0x03, // options: QoS 3, malformed in 3.1.1 [MQTT-3-8.3-4]
		},
		err: errSubQoS3Malformed,
	},
	{
		name: "5.0 SUBSCRIBE, QoS 3",
		v:    V5,
		raw: []byte{
			0x82, 7, // SUBSCRIBE, remaining length 7
			0, 1, // packet identifier 1
			0,         // props 0
			0, 1, 'a', // filter "a"
			0x03, // options: maximum QoS 3, a Protocol Error in 5.0
		},
		err: errSubQoS3,
	},
	{
		name: "5.0 SUBSCRIBE, reserved option bits",
		v:    V5,
		raw: []byte{
			0x82, 7, // SUBSCRIBE, remaining length 7
			0, 1, // packet identifier 1
			0,         // props 0
			0, 1, 'a', // filter "a"
			0x40, // options: bit 6 is reserved [MQTT-3.8.3-5]
		},
		err: errSubReservedBits,
	},
	{
		name: "5.0 SUBSCRIBE, retain handling 3",
		v:    V5,
		raw: []byte{
			0x82, 7, // SUBSCRIBE, remaining length 7
			0, 1, // packet identifier 1
			0,         // props 0
			0, 1, 'a', // filter "a"
			0x30, // options: retain handling 3, a Protocol Error
		},
		err: errRetainHandling3,
	},
	{
		name: "5.0 SUBSCRIBE, no local on a shared subscription",
		v:    V5,
		raw: []byte{
			0x82, 16, // SUBSCRIBE, remaining length 16
			0, 1, // packet identifier 1
			0,                                                       // props 0
			0, 10, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 'y', // filter "$share/g/y"
			0x04, // options: no local [MQTT-3.8.3-4]
		},
		err: errSharedNoLocal,
	},
	{
		name: "SUBSCRIBE, # not last",
		v:    V311,
		raw: []byte{
			0x82, 10, // SUBSCRIBE, remaining length 10
			0, 1, // packet identifier 1
			0, 5, 'a', '/', '#', '/', 'b', // filter "a/#/b" [MQTT-4.7.1-1]
			0x00, // options: QoS 0
		},
		err: ErrTopicFilterInvalid,
	},
	{
		name: "SUBSCRIBE, + inside a level",
		v:    V311,
		raw: []byte{
			0x82, 7, // SUBSCRIBE, remaining length 7
			0, 1, // packet identifier 1
			0, 2, 'a', '+', // filter "a+" [MQTT-4.7.1-2]
			0x00, // options: QoS 0
		},
		err: ErrTopicFilterInvalid,
	},
	{
		name: "SUBSCRIBE, empty topic filter",
		v:    V311,
		raw: []byte{
			0x82, 5, // SUBSCRIBE, remaining length 5
			0, 1, // packet identifier 1
			0, 0, // filter "" [MQTT-4.7.3-1]
			0x00, // options: QoS 0
		},
		err: ErrTopicFilterInvalid,
	},
	{
		name: "SUBSCRIBE, shared subscription without share name",
		v:    V311,
		raw: []byte{
			0x82, 14, // SUBSCRIBE, remaining length 14
			0, 1, // packet identifier 1
			0, 9, '$', 's', 'h', 'a', 'r', 'e', '/', '/', 'y', // filter "$share//y" [MQTT-4.8.2-1]
			0x00, // options: QoS 0
		},
		err: ErrTopicFilterInvalid,
	},
	{
		name: "SUBSCRIBE, shared subscription without filter",
		v:    V5,
		raw: []byte{
			0x82, 14, // SUBSCRIBE, remaining length 14
			0, 1, // packet identifier 1
			0,                                            // props 0
			0, 8, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', // filter "$share/g" [MQTT-4.8.2-2]
			0x00, // options: QoS 0
		},
		err: ErrTopicFilterInvalid,
	},
	{
		name: "SUBSCRIBE, share name with wildcard",
		v:    V311,
		raw: []byte{
			0x82, 15, // SUBSCRIBE, remaining length 15
			0, 1, // packet identifier 1
			0, 10, '$', 's', 'h', 'a', 'r', 'e', '/', '+', '/', 'y', // filter "$share/+/y" [MQTT-4.8.2-2]
			0x00, // options: QoS 0
		},
		err: ErrTopicFilterInvalid,
	},
	{
		name: "SUBSCRIBE, options byte missing",
		v:    V311,
		raw: []byte{
			0x82, 5, // SUBSCRIBE, remaining length 5
			0, 1, // packet identifier 1
			0, 1, 'a', // filter "a", then no options byte
		},
		err: errTruncated,
	},
	{
		name: "SUBSCRIBE, filter with ill-formed UTF-8",
		v:    V311,
		raw: []byte{
			0x82, 6, // SUBSCRIBE, remaining length 6
			0, 1, // packet identifier 1
			0, 1, 0xfe, // filter: FE never occurs in UTF-8
			0x00, // options: QoS 0
		},
		err: errBadUTF8,
	},
	{
		name: "5.0 SUBSCRIBE, two subscription identifiers",
		v:    V5,
		raw: []byte{
			0x82, 11, // SUBSCRIBE, remaining length 11
			0, 1, // packet identifier 1
			4,       // props 4
			0x0b, 1, // subscription identifier 1
			0x0b, 2, // subscription identifier again: a Protocol Error in SUBSCRIBE
			0, 1, 'a', // filter "a"
			0x00, // options: QoS 0
		},
		err: errPropDuplicate,
	},
	{
		name: "5.0 SUBSCRIBE, subscription identifier 0",
		v:    V5,
		raw: []byte{
			0x82, 9, // SUBSCRIBE, remaining length 9
			0, 1, // packet identifier 1
			2,       // props 2
			0x0b, 0, // subscription identifier 0: a Protocol Error
			0, 1, 'a', // filter "a"
			0x00, // options: QoS 0
		},
		err: errSubIDZero,
	},
	{
		name: "5.0 SUBSCRIBE, reason string property",
		v:    V5,
		raw: []byte{
			0x82, 11, // SUBSCRIBE, remaining length 11
			0, 1, // packet identifier 1
			4,               // props 4
			0x1f, 0, 1, 'r', // reason string: not a SUBSCRIBE property
			0, 1, 'a', // filter "a"
			0x00, // options: QoS 0
		},
		err: errPropNotAllowed,
	},

	// Invalid SUBACK, UNSUBSCRIBE and UNSUBACK packets.
	{
		name: "SUBACK, no reason code",
		v:    V311,
		raw: []byte{
			0x90, 2, // SUBACK, remaining length 2
			0, 1, // packet identifier 1, then no reason code
		},
		err: errNoReasons,
	},
	{
		name: "3.1.1 SUBACK, reason code 0x83",
		v:    V311,
		raw: []byte{
			0x90, 3, // SUBACK, remaining length 3
			0, 1, // packet identifier 1
			0x83, // implementation specific error: MQTT 5 only
		},
		err: errReasonCode,
	},
	{
		name: "5.0 SUBACK, reason code 0x11",
		v:    V5,
		raw: []byte{
			0x90, 4, // SUBACK, remaining length 4
			0, 1, // packet identifier 1
			0,    // props 0
			0x11, // no subscription existed: an UNSUBACK code
		},
		err: errReasonCode,
	},
	{
		name: "UNSUBSCRIBE, no topic filter",
		v:    V311,
		raw: []byte{
			0xa2, 2, // UNSUBSCRIBE, remaining length 2
			0, 1, // packet identifier 1, then no filter [MQTT-3.10.3-2]
		},
		err: errNoFilters,
	},
	{
		name: "UNSUBSCRIBE without its flags",
		v:    V311,
		raw: []byte{
			0xa0, 5, // UNSUBSCRIBE, flags 0000: must be 0010 [MQTT-3.10.1-1]
			0, 1, // packet identifier 1
			0, 1, 'a', // filter "a"
		},
		err: errBadFlags,
	},
	{
		name: "5.0 UNSUBSCRIBE, subscription identifier property",
		v:    V5,
		raw: []byte{
			0xa2, 8, // UNSUBSCRIBE, remaining length 8
			0, 1, // packet identifier 1
			2,       // props 2
			0x0b, 1, // subscription identifier: not an UNSUBSCRIBE property
			0, 1, 'a', // filter "a"
		},
		err: errPropNotAllowed,
	},
	{
		name: "UNSUBSCRIBE, invalid filter",
		v:    V311,
		raw: []byte{
			0xa2, 6, // UNSUBSCRIBE, remaining length 6
			0, 1, // packet identifier 1
			0, 2, '#', 'a', // filter "#a": # must be a whole level
		},
		err: ErrTopicFilterInvalid,
	},
	{
		name: "3.1.1 UNSUBACK with a reason code",
		v:    V311,
		raw: []byte{
			0xb0, 3, // UNSUBACK, remaining length 3: 3.1.1 has exactly 2
			0, 1, // packet identifier 1
			0x00, // a reason code, MQTT 5 only
		},
		err: errTrailing,
	},
	{
		name: "5.0 UNSUBACK, no reason code",
		v:    V5,
		raw: []byte{
			0xb0, 3, // UNSUBACK, remaining length 3
			0, 1, // packet identifier 1
			0, // props 0, then no reason code
		},
		err: errNoReasons,
	},
	{
		name: "5.0 UNSUBACK, reason code 0x01",
		v:    V5,
		raw: []byte{
			0xb0, 4, // UNSUBACK, remaining length 4
			0, 1, // packet identifier 1
			0,    // props 0
			0x01, // granted QoS 1: a SUBACK code
		},
		err: errReasonCode,
	},
}
