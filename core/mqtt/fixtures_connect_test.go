package mqtt

// CONNECT and CONNACK fixtures. Every byte is commented; "len" is a
// two-byte length prefix, "props" a property length.

var connectFixtures = []fixture{
	{
		name: "3.1.1 CONNECT, clean session",
		v:    V311,
		raw: []byte{
			0x10, 14, // CONNECT, remaining length 14
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4,     // protocol level 4: 3.1.1
			0x02,  // connect flags: clean session
			0, 60, // keep alive 60 s
			0, 2, 'c', '1', // client identifier "c1"
		},
		want: &Connect{Version: V311, CleanStart: true, KeepAlive: 60, ClientID: b("c1")},
	},
	{
		name: "3.1.1 CONNECT, will, user name, password",
		v:    V311,
		raw: []byte{
			0x10, 37, // CONNECT, remaining length 37
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4,     // protocol level 4: 3.1.1
			0xee,  // flags: user name, password, will retain, will QoS 1, will, clean session
			0, 30, // keep alive 30 s
			0, 3, 'c', 'l', 'i', // client identifier "cli"
			0, 3, 'w', '/', 't', // will topic "w/t"
			0, 4, 'g', 'o', 'n', 'e', // will payload "gone"
			0, 4, 'u', 's', 'e', 'r', // user name "user"
			0, 3, 'p', 0x00, 0xff, // password: binary data, any bytes
		},
		want: &Connect{Version: V311, CleanStart: true, KeepAlive: 30, ClientID: b("cli"),
			WillFlag: true, WillQoS: 1, WillRetain: true, WillTopic: b("w/t"), WillPayload: b("gone"),
			HasUsername: true, Username: b("user"), HasPassword: true, Password: []byte{'p', 0, 0xff}},
	},
	{
		name: "3.1.1 CONNECT, empty client identifier",
		v:    V311,
		raw: []byte{
			0x10, 12, // CONNECT, remaining length 12
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4,    // protocol level 4: 3.1.1
			0x02, // flags: clean session
			0, 0, // keep alive 0: off
			0, 0, // client identifier "": the server assigns one [MQTT-3.1.3-6]
		},
		want: &Connect{Version: V311, CleanStart: true, ClientID: []byte{}},
	},
	{
		name: "5.0 CONNECT, no properties",
		v:    V5,
		raw: []byte{
			0x10, 15, // CONNECT, remaining length 15
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5,     // protocol level 5: 5.0
			0x02,  // flags: clean start
			0, 10, // keep alive 10 s
			0,              // props 0
			0, 2, 'c', '5', // client identifier "c5"
		},
		want: &Connect{Version: V5, CleanStart: true, KeepAlive: 10, ClientID: b("c5")},
	},
	{
		name: "5.0 CONNECT, properties, will with properties, user name, password",
		v:    V5,
		raw: []byte{
			0x10, 116, // CONNECT, remaining length 116
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5,       // protocol level 5: 5.0
			0xd4,    // flags: user name, password, will QoS 2, will; no clean start
			1, 0x2c, // keep alive 300 s
			40,                     // props 40
			0x11, 0, 0, 0x0e, 0x10, // session expiry interval 3600 s
			0x15, 0, 5, 'S', 'C', 'R', 'A', 'M', // authentication method "SCRAM"
			0x16, 0, 2, 1, 2, // authentication data 01 02
			0x17, 0, // request problem information 0
			0x19, 1, // request response information 1
			0x21, 0, 20, // receive maximum 20
			0x22, 0, 10, // topic alias maximum 10
			0x26, 0, 1, 'k', 0, 1, 'v', // user property k=v
			0x27, 0, 0, 0x10, 0, // maximum packet size 4096
			0, 3, 'c', 'i', 'd', // client identifier "cid"
			43,      // will props 43
			0x01, 1, // payload format indicator 1: UTF-8
			0x02, 0, 0, 0, 60, // message expiry interval 60 s
			0x03, 0, 10, 't', 'e', 'x', 't', '/', 'p', 'l', 'a', 'i', 'n', // content type "text/plain"
			0x08, 0, 3, 'r', '/', 't', // response topic "r/t"
			0x09, 0, 2, 0xca, 0xfe, // correlation data ca fe
			0x18, 0, 0, 0, 5, // will delay interval 5 s
			0x26, 0, 1, 'a', 0, 1, 'b', // user property a=b
			0, 3, 'w', '/', 't', // will topic "w/t"
			0, 3, 'b', 'y', 'e', // will payload "bye"
			0, 1, 'u', // user name "u"
			0, 1, 'p', // password "p"
		},
		want: &Connect{Version: V5, KeepAlive: 300, ClientID: b("cid"),
			Props: pr(Properties{SessionExpiry: 3600, AuthMethod: b("SCRAM"), AuthData: []byte{1, 2},
				RequestResponseInfo: 1, ReceiveMaximum: 20, TopicAliasMaximum: 10,
				UserProperties: []UserProperty{{b("k"), b("v")}}, MaximumPacketSize: 4096},
				PropSessionExpiry, PropRequestProblemInfo, PropRequestResponseInfo, PropReceiveMaximum,
				PropTopicAliasMaximum, PropMaximumPacketSize),
			WillFlag: true, WillQoS: 2, WillTopic: b("w/t"), WillPayload: b("bye"),
			WillProps: pr(Properties{PayloadFormat: 1, MessageExpiry: 60, ContentType: b("text/plain"),
				ResponseTopic: b("r/t"), CorrelationData: []byte{0xca, 0xfe}, WillDelay: 5,
				UserProperties: []UserProperty{{b("a"), b("b")}}},
				PropPayloadFormat, PropMessageExpiry, PropWillDelay),
			HasUsername: true, Username: b("u"), HasPassword: true, Password: b("p")},
	},
	{
		name: "5.0 CONNECT, password without user name",
		v:    V5,
		raw: []byte{
			0x10, 18, // CONNECT, remaining length 18
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5,    // protocol level 5: 5.0
			0x42, // flags: password, clean start; no user name, allowed in 5.0 [MQTT-3.1.2-19]
			0, 0, // keep alive 0
			0,         // props 0
			0, 1, 'p', // client identifier "p"
			0, 2, 'p', 'w', // password "pw"
		},
		want: &Connect{Version: V5, CleanStart: true, ClientID: b("p"), HasPassword: true, Password: b("pw")},
	},

	// Invalid CONNECT packets.
	{
		name: "CONNECT with fixed header flags",
		v:    V311,
		raw: []byte{
			0x11, 12, // CONNECT with flags 0001: reserved, must be 0
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4, 0x02, 0, 0, // level 4, clean session, keep alive 0
			0, 0, // client identifier ""
		},
		err: errBadFlags,
	},
	{
		name: "CONNECT, protocol name MQTX",
		v:    V5,
		raw: []byte{
			0x10, 13, // CONNECT, remaining length 13
			0, 4, 'M', 'Q', 'T', 'X', // protocol name "MQTX": not MQTT
			5, 0x02, 0, 0, 0, // level 5, clean start, keep alive 0, props 0
			0, 0, // client identifier ""
		},
		err: ErrUnsupportedProtocol,
	},
	{
		name: "CONNECT, MQTT 3.1 (MQIsdp level 3)",
		v:    V311,
		raw: []byte{
			0x10, 14, // CONNECT, remaining length 14
			0, 6, 'M', 'Q', 'I', 's', 'd', 'p', // protocol name "MQIsdp" of MQTT 3.1
			3, 0x02, 0, 0, // level 3, clean session, keep alive 0
			0, 0, // client identifier ""
		},
		err: ErrUnsupportedProtocol,
	},
	{
		name: "CONNECT, protocol level 6",
		v:    V5,
		raw: []byte{
			0x10, 12, // CONNECT, remaining length 12
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			6, 0x02, 0, 0, // level 6: unknown; clean start, keep alive 0
			0, 0, // client identifier ""
		},
		err: ErrUnsupportedProtocol,
	},
	{
		name: "CONNECT, reserved flag",
		v:    V311,
		raw: []byte{
			0x10, 12, // CONNECT, remaining length 12
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4,    // level 4
			0x03, // flags: clean session and the reserved bit 0 [MQTT-3.1.2-3]
			0, 0, // keep alive 0
			0, 0, // client identifier ""
		},
		err: errConnectReserved,
	},
	{
		name: "CONNECT, will QoS without will flag",
		v:    V311,
		raw: []byte{
			0x10, 12, // CONNECT, remaining length 12
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4,    // level 4
			0x0a, // flags: will QoS 1, clean session, but no will flag [MQTT-3.1.2-11]
			0, 0, // keep alive 0
			0, 0, // client identifier ""
		},
		err: errWillFlags,
	},
	{
		name: "CONNECT, will retain without will flag",
		v:    V5,
		raw: []byte{
			0x10, 13, // CONNECT, remaining length 13
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5,    // level 5
			0x20, // flags: will retain but no will flag [MQTT-3.1.2-13]
			0, 0, // keep alive 0
			0,    // props 0
			0, 0, // client identifier ""
		},
		err: errWillFlags,
	},
	{
		name: "CONNECT, will QoS 3",
		v:    V311,
		raw: []byte{
			0x10, 22, // CONNECT, remaining length 22
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4,    // level 4
			0x1e, // flags: will QoS 3, will, clean session
			0, 0, // keep alive 0
			0, 0, // client identifier ""
			0, 3, 'w', '/', 't', // will topic "w/t"
			0, 3, 'b', 'y', 'e', // will payload "bye"
		},
		err: errWillQoS3,
	},
	{
		name: "3.1.1 CONNECT, password without user name",
		v:    V311,
		raw: []byte{
			0x10, 15, // CONNECT, remaining length 15
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4,    // level 4
			0x42, // flags: password, clean session; no user name [MQTT-3.1.2-22]
			0, 0, // keep alive 0
			0, 0, // client identifier ""
			0, 1, 'p', // password "p"
		},
		err: errPasswordNoUser,
	},
	{
		name: "CONNECT, client identifier with overlong NUL",
		v:    V311,
		raw: []byte{
			0x10, 14, // CONNECT, remaining length 14
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4, 0x02, 0, 0, // level 4, clean session, keep alive 0
			0, 2, 0xc0, 0x80, // client identifier: C0 80, an overlong U+0000 [MQTT-1.5.4-1]
		},
		err: errBadUTF8,
	},
	{
		name: "CONNECT, client identifier with U+0000",
		v:    V311,
		raw: []byte{
			0x10, 14, // CONNECT, remaining length 14
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4, 0x02, 0, 0, // level 4, clean session, keep alive 0
			0, 2, 'a', 0x00, // client identifier "a\x00" [MQTT-1.5.4-2]
		},
		err: errBadUTF8,
	},
	{
		name: "CONNECT, user name with a surrogate",
		v:    V311,
		raw: []byte{
			0x10, 17, // CONNECT, remaining length 17
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4, 0x82, 0, 0, // level 4, flags: user name, clean session; keep alive 0
			0, 0, // client identifier ""
			0, 3, 0xed, 0xa0, 0x80, // user name: U+D800, a surrogate [MQTT-1.5.4-1]
		},
		err: errBadUTF8,
	},
	{
		name: "CONNECT, will topic with wildcard",
		v:    V311,
		raw: []byte{
			0x10, 19, // CONNECT, remaining length 19
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4, 0x06, 0, 0, // level 4, flags: will, clean session; keep alive 0
			0, 0, // client identifier ""
			0, 3, 'w', '/', '#', // will topic "w/#": wildcard in a topic name
			0, 0, // will payload ""
		},
		err: ErrTopicNameInvalid,
	},
	{
		name: "CONNECT, user name flag without user name",
		v:    V311,
		raw: []byte{
			0x10, 12, // CONNECT, remaining length 12
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4, 0x82, 0, 0, // level 4, flags: user name, clean session; keep alive 0
			0, 0, // client identifier "", then the packet ends: no user name
		},
		err: errTruncated,
	},
	{
		name: "CONNECT, bytes after the payload",
		v:    V311,
		raw: []byte{
			0x10, 13, // CONNECT, remaining length 13
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			4, 0x02, 0, 0, // level 4, clean session, keep alive 0
			0, 0, // client identifier ""
			'x', // a byte no field accounts for
		},
		err: errTrailing,
	},
	{
		name: "5.0 CONNECT, topic alias property",
		v:    V5,
		raw: []byte{
			0x10, 16, // CONNECT, remaining length 16
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5, 0x02, 0, 0, // level 5, clean start, keep alive 0
			3,          // props 3
			0x23, 0, 1, // topic alias 1: a PUBLISH property [MQTT-2.2.2.2]
			0, 0, // client identifier ""
		},
		err: errPropNotAllowed,
	},
	{
		name: "5.0 CONNECT, session expiry twice",
		v:    V5,
		raw: []byte{
			0x10, 23, // CONNECT, remaining length 23
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5, 0x02, 0, 0, // level 5, clean start, keep alive 0
			10,               // props 10
			0x11, 0, 0, 0, 1, // session expiry interval 1
			0x11, 0, 0, 0, 2, // session expiry interval again: a Protocol Error
			0, 0, // client identifier ""
		},
		err: errPropDuplicate,
	},
	{
		name: "5.0 CONNECT, receive maximum 0",
		v:    V5,
		raw: []byte{
			0x10, 16, // CONNECT, remaining length 16
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5, 0x02, 0, 0, // level 5, clean start, keep alive 0
			3,          // props 3
			0x21, 0, 0, // receive maximum 0: a Protocol Error
			0, 0, // client identifier ""
		},
		err: errPropValue,
	},
	{
		name: "5.0 CONNECT, maximum packet size 0",
		v:    V5,
		raw: []byte{
			0x10, 18, // CONNECT, remaining length 18
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5, 0x02, 0, 0, // level 5, clean start, keep alive 0
			5,                // props 5
			0x27, 0, 0, 0, 0, // maximum packet size 0: a Protocol Error
			0, 0, // client identifier ""
		},
		err: errPropValue,
	},
	{
		name: "5.0 CONNECT, request problem information 2",
		v:    V5,
		raw: []byte{
			0x10, 15, // CONNECT, remaining length 15
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5, 0x02, 0, 0, // level 5, clean start, keep alive 0
			2,       // props 2
			0x17, 2, // request problem information 2: only 0 and 1 are allowed
			0, 0, // client identifier ""
		},
		err: errPropValue,
	},
	{
		name: "5.0 CONNECT, authentication data without method",
		v:    V5,
		raw: []byte{
			0x10, 17, // CONNECT, remaining length 17
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5, 0x02, 0, 0, // level 5, clean start, keep alive 0
			4,             // props 4
			0x16, 0, 1, 7, // authentication data 07 without authentication method
			0, 0, // client identifier ""
		},
		err: errAuthDataNoMethod,
	},
	{
		name: "5.0 CONNECT, property length past the packet",
		v:    V5,
		raw: []byte{
			0x10, 13, // CONNECT, remaining length 13
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5, 0x02, 0, 0, // level 5, clean start, keep alive 0
			9,    // props 9, but only 2 bytes follow
			0, 0, // client identifier ""
		},
		err: errTruncated,
	},
	{
		name: "5.0 CONNECT, string property past its section",
		v:    V5,
		raw: []byte{
			0x10, 18, // CONNECT, remaining length 18
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5, 0x02, 0, 0, // level 5, clean start, keep alive 0
			3,                    // props 3
			0x15, 0, 4, 'a', 'b', // authentication method of length 4: runs out of the 3 property bytes
			0, 0, // client identifier ""
		},
		err: errTruncated,
	},
	{
		name: "5.0 CONNECT, will payload format 2",
		v:    V5,
		raw: []byte{
			0x10, 21, // CONNECT, remaining length 21
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5, 0x06, 0, 0, // level 5, flags: will, clean start; keep alive 0
			0,    // props 0
			0, 0, // client identifier ""
			2,       // will props 2
			0x01, 2, // payload format indicator 2: only 0 and 1 are allowed
			0, 1, 't', // will topic "t"
			0, 0, // will payload ""
		},
		err: errPropValue,
	},
	{
		name: "5.0 CONNECT, unknown property identifier",
		v:    V5,
		raw: []byte{
			0x10, 15, // CONNECT, remaining length 15
			0, 4, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			5, 0x02, 0, 0, // level 5, clean start, keep alive 0
			2,       // props 2
			0x7f, 0, // property 0x7f: no such property [MQTT-2.2.2.2]
			0, 0, // client identifier ""
		},
		err: errPropNotAllowed,
	},
}

var connackFixtures = []fixture{
	{
		name: "3.1.1 CONNACK, accepted, session present",
		v:    V311,
		raw: []byte{
			0x20, 2, // CONNACK, remaining length 2
			0x01, // acknowledge flags: session present
			0x00, // return code 0: accepted
		},
		want: &Connack{SessionPresent: true, Reason: V311Accepted},
	},
	{
		name: "3.1.1 CONNACK, bad user name or password",
		v:    V311,
		raw: []byte{
			0x20, 2, // CONNACK, remaining length 2
			0x00, // acknowledge flags: none
			0x04, // return code 4: bad user name or password
		},
		want: &Connack{Reason: V311BadUsernameOrPassword},
	},
	{
		name: "5.0 CONNACK, success, no properties",
		v:    V5,
		raw: []byte{
			0x20, 3, // CONNACK, remaining length 3
			0x00, // acknowledge flags: none
			0x00, // reason code: success
			0,    // props 0
		},
		want: &Connack{Reason: Success},
	},
	{
		name: "5.0 CONNACK, every property",
		v:    V5,
		raw: []byte{
			0x20, 80, // CONNACK, remaining length 80
			0x01,              // acknowledge flags: session present
			0x00,              // reason code: success
			77,                // props 77
			0x11, 0, 0, 0, 60, // session expiry interval 60 s
			0x12, 0, 6, 'a', 'u', 't', 'o', '-', '1', // assigned client identifier "auto-1"
			0x13, 0, 30, // server keep alive 30 s
			0x15, 0, 5, 'S', 'C', 'R', 'A', 'M', // authentication method "SCRAM"
			0x16, 0, 1, 9, // authentication data 09
			0x1a, 0, 4, 'r', 'e', 's', 'p', // response information "resp"
			0x1c, 0, 5, 'o', 't', 'h', 'e', 'r', // server reference "other"
			0x1f, 0, 2, 'o', 'k', // reason string "ok"
			0x21, 0, 100, // receive maximum 100
			0x22, 0, 16, // topic alias maximum 16
			0x24, 1, // maximum QoS 1
			0x25, 0, // retain available 0: no
			0x26, 0, 1, 'k', 0, 1, 'v', // user property k=v
			0x27, 0, 1, 0, 0, // maximum packet size 65536
			0x28, 1, // wildcard subscription available 1
			0x29, 0, // subscription identifiers available 0
			0x2a, 1, // shared subscription available 1
		},
		want: &Connack{SessionPresent: true, Reason: Success, Props: pr(Properties{
			SessionExpiry: 60, AssignedClientID: b("auto-1"), ServerKeepAlive: 30, AuthMethod: b("SCRAM"),
			AuthData: []byte{9}, ResponseInfo: b("resp"), ServerReference: b("other"), ReasonString: b("ok"),
			ReceiveMaximum: 100, TopicAliasMaximum: 16, MaximumQoS: 1,
			UserProperties: []UserProperty{{b("k"), b("v")}}, MaximumPacketSize: 65536,
			WildcardSubAvailable: 1, SharedSubAvailable: 1},
			PropSessionExpiry, PropServerKeepAlive, PropReceiveMaximum, PropTopicAliasMaximum,
			PropMaximumQoS, PropRetainAvailable, PropMaximumPacketSize, PropWildcardSubAvailable,
			PropSubIDAvailable, PropSharedSubAvailable)},
	},
	{
		name: "5.0 CONNACK, unsupported protocol version",
		v:    V5,
		raw: []byte{
			0x20, 3, // CONNACK, remaining length 3
			0x00, // acknowledge flags: none
			0x84, // reason code: unsupported protocol version
			0,    // props 0
		},
		want: &Connack{Reason: UnsupportedProtocolVersion},
	},

	// Invalid CONNACK packets.
	{
		name: "3.1.1 CONNACK, reserved acknowledge flags",
		v:    V311,
		raw: []byte{
			0x20, 2, // CONNACK, remaining length 2
			0x02, // acknowledge flags: bit 1 is reserved [MQTT-3.2.2-1]
			0x00, // return code 0
		},
		err: errConnackFlags,
	},
	{
		name: "3.1.1 CONNACK, return code 6",
		v:    V311,
		raw: []byte{
			0x20, 2, // CONNACK, remaining length 2
			0x00, // acknowledge flags: none
			0x06, // return code 6: reserved
		},
		err: errReasonCode,
	},
	{
		name: "3.1.1 CONNACK, refused with session present",
		v:    V311,
		raw: []byte{
			0x20, 2, // CONNACK, remaining length 2
			0x01, // acknowledge flags: session present
			0x05, // return code 5: not authorized, so no session [MQTT-3.2.2-4]
		},
		err: errConnackSession,
	},
	{
		name: "5.0 CONNACK, maximum QoS 2",
		v:    V5,
		raw: []byte{
			0x20, 5, // CONNACK, remaining length 5
			0x00, 0x00, // acknowledge flags, reason code success
			2,       // props 2
			0x24, 2, // maximum QoS 2: only 0 and 1 may be sent
		},
		err: errPropValue,
	},
	{
		name: "5.0 CONNACK, reason code 0x10",
		v:    V5,
		raw: []byte{
			0x20, 3, // CONNACK, remaining length 3
			0x00, // acknowledge flags: none
			0x10, // reason code 0x10 (no matching subscribers): not a CONNACK code
			0,    // props 0
		},
		err: errReasonCode,
	},
	{
		name: "5.0 CONNACK, no property length",
		v:    V5,
		raw: []byte{
			0x20, 2, // CONNACK, remaining length 2
			0x00, 0x00, // acknowledge flags, reason code; the property length is missing
		},
		err: errTruncated,
	},
}
