package mqtt

// PINGREQ, PINGRESP, DISCONNECT and AUTH fixtures, and streams the Parser
// itself refuses. Every byte is commented; "props" is a property length.

var otherFixtures = []fixture{
	{
		name: "PINGREQ",
		v:    V311,
		raw: []byte{
			0xc0, 0, // PINGREQ, remaining length 0
		},
		want: &ping{PINGREQ},
	},
	{
		name: "PINGRESP",
		v:    V5,
		raw: []byte{
			0xd0, 0, // PINGRESP, remaining length 0
		},
		want: &ping{PINGRESP},
	},
	{
		name: "3.1.1 DISCONNECT",
		v:    V311,
		raw: []byte{
			0xe0, 0, // DISCONNECT, remaining length 0
		},
		want: &Disconnect{},
	},
	{
		name: "5.0 DISCONNECT, short form",
		v:    V5,
		raw: []byte{
			0xe0, 0, // DISCONNECT, remaining length 0: normal disconnection [MQTT-3.14.2.1]
		},
		want: &Disconnect{Reason: Success},
	},
	{
		name: "5.0 DISCONNECT, reason code only",
		v:    V5,
		raw: []byte{
			0xe0, 1, // DISCONNECT, remaining length 1
			0x04, // reason code: disconnect with will message; no property length
		},
		want: &Disconnect{Reason: DisconnectWithWill},
	},
	{
		name: "5.0 DISCONNECT, properties",
		v:    V5,
		raw: []byte{
			0xe0, 18, // DISCONNECT, remaining length 18
			0x8b,             // reason code: server shutting down
			16,               // props 16
			0x11, 0, 0, 0, 0, // session expiry interval 0
			0x1c, 0, 2, 's', '2', // server reference "s2"
			0x1f, 0, 3, 'b', 'y', 'e', // reason string "bye"
		},
		want: &Disconnect{Reason: ServerShuttingDown, Props: pr(Properties{ServerReference: b("s2"),
			ReasonString: b("bye")}, PropSessionExpiry)},
	},
	{
		name: "5.0 DISCONNECT, long form of success",
		v:    V5,
		raw: []byte{
			0xe0, 2, // DISCONNECT, remaining length 2
			0x00, // reason code: normal disconnection
			0,    // props 0: encoders use the 0-byte form instead
		},
		want:         &Disconnect{},
		nonCanonical: true,
	},
	{
		name: "5.0 AUTH, short form",
		v:    V5,
		raw: []byte{
			0xf0, 0, // AUTH, remaining length 0: success, no properties [MQTT-3.15.2.1]
		},
		want: &Auth{},
	},
	{
		name: "5.0 AUTH, continue authentication",
		v:    V5,
		raw: []byte{
			0xf0, 15, // AUTH, remaining length 15
			0x18,                                // reason code: continue authentication
			13,                                  // props 13
			0x15, 0, 5, 'S', 'C', 'R', 'A', 'M', // authentication method "SCRAM"
			0x16, 0, 2, 0xaa, 0xbb, // authentication data aa bb
		},
		want: &Auth{Reason: ContinueAuthentication, Props: Properties{AuthMethod: b("SCRAM"),
			AuthData: []byte{0xaa, 0xbb}}},
	},

	// Invalid PINGREQ, PINGRESP, DISCONNECT and AUTH packets.
	{
		name: "PINGREQ with a body",
		v:    V311,
		raw: []byte{
			0xc0, 1, // PINGREQ, remaining length 1: must be 0
			0, // a byte PINGREQ has no room for
		},
		err: errNonEmptyBody,
	},
	{
		name: "PINGRESP with fixed header flags",
		v:    V5,
		raw: []byte{
			0xd1, 0, // PINGRESP, flags 0001: reserved, must be 0
		},
		err: errBadFlags,
	},
	{
		name: "DISCONNECT with fixed header flags",
		v:    V311,
		raw: []byte{
			0xe2, 0, // DISCONNECT, flags 0010: reserved, must be 0
		},
		err: errBadFlags,
	},
	{
		name: "3.1.1 DISCONNECT with a reason code",
		v:    V311,
		raw: []byte{
			0xe0, 1, // DISCONNECT, remaining length 1: 3.1.1 has none
			0x04, // a reason code, MQTT 5 only
		},
		err: errNonEmptyBody,
	},
	{
		name: "5.0 DISCONNECT, reason code 0x01",
		v:    V5,
		raw: []byte{
			0xe0, 1, // DISCONNECT, remaining length 1
			0x01, // granted QoS 1: not a DISCONNECT code
		},
		err: errReasonCode,
	},
	{
		name: "5.0 DISCONNECT, topic alias maximum property",
		v:    V5,
		raw: []byte{
			0xe0, 5, // DISCONNECT, remaining length 5
			0x00,       // reason code: normal disconnection
			3,          // props 3
			0x22, 0, 1, // topic alias maximum: not a DISCONNECT property
		},
		err: errPropNotAllowed,
	},
	{
		name: "3.1.1 AUTH",
		v:    V311,
		raw: []byte{
			0xf0, 0, // AUTH: type 15 is reserved in 3.1.1
		},
		err: ErrReservedType,
	},
	{
		name: "5.0 AUTH, reason code without property length",
		v:    V5,
		raw: []byte{
			0xf0, 1, // AUTH, remaining length 1
			0x18, // reason code: continue authentication; the property length is missing
		},
		err: errShortAuth,
	},
	{
		name: "5.0 AUTH, reason code 0x01",
		v:    V5,
		raw: []byte{
			0xf0, 2, // AUTH, remaining length 2
			0x01, // granted QoS 1: not an AUTH code
			0,    // props 0
		},
		err: errReasonCode,
	},
	{
		name: "5.0 AUTH without authentication method",
		v:    V5,
		raw: []byte{
			0xf0, 2, // AUTH, remaining length 2
			0x18, // reason code: continue authentication
			0,    // props 0: no authentication method [MQTT-3.15.2.2.2]
		},
		err: errAuthNoMethod,
	},

	// Streams the Parser refuses from the fixed header alone.
	{
		name: "reserved packet type 0",
		v:    V5,
		raw: []byte{
			0x00, 0, // type 0: reserved
		},
		err: ErrReservedType,
	},
	{
		name: "remaining length of 5 bytes",
		v:    V311,
		raw: []byte{
			0x30,                   // PUBLISH, QoS 0
			0xff, 0xff, 0xff, 0xff, // remaining length: four bytes with continuation bits
			0x7f, // ... and a fifth [MQTT-1.5.5]
		},
		err: ErrMalformedLength,
	},
	{
		name: "remaining length not in shortest form",
		v:    V5,
		raw: []byte{
			0xc0,       // PINGREQ
			0x80, 0x00, // remaining length 0 in two bytes [MQTT-1.5.5-1]
		},
		err: ErrMalformedLength,
	},
}
