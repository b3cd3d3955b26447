// Package mqtt is PubSubX's codec for MQTT 3.1.1 and 5.0, shared by the
// broker and the client.
//
// Decoding is incremental and zero-copy: a Parser splits a byte stream into
// packets, keeping only the bytes of a packet split across reads in a small
// scratch buffer; CheckFlags checks a fixed header's flags; the Decode*
// functions fill caller-owned packet structs whose byte slices alias the
// packet's bytes, so they are valid only as long as those bytes are (for a
// packet from a Parser, until its next Next or Feed call). A reused struct
// decodes without allocating. Encoding appends to a caller's buffer
// (Append*), so a buffer with room encodes without allocating.
//
// A connection's reader, in outline:
//
//	p.Feed(chunk)
//	for {
//		h, body, ok, err := p.Next()
//		if err != nil || !ok { ... }
//		if err := mqtt.CheckFlags(h.Type, h.Flags, version); err != nil { ... }
//		switch h.Type {
//		case mqtt.PUBLISH:
//			err = mqtt.DecodePublish(version, h.Flags, body, &pub)
//		...
//		}
//	}
//
// Errors: every violation of the specification is reported as an *Error
// carrying the reason code to close the connection with (Reason(err)):
// Malformed Packet when the bytes do not parse, Protocol Error when they
// parse but the protocol forbids them, or a more specific code (Topic Name
// invalid, Packet too large, ...). The errors are shared values: returning
// one does not allocate. The decoders check everything a single packet can
// show; rules that need connection state (topic alias mapping, receive
// maximum, a second CONNECT, ...) are the caller's.
//
// Nothing in this package is safe for concurrent use on the same value;
// distinct values are independent. The package-level error values and
// tables are read-only. Spec clauses are cited as [MQTT-x.y.z-n].
package mqtt
