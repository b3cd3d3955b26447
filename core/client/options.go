package client

import (
	"crypto/tls"
	"errors"
	"math"
	"net"
	"time"

	"github.com/pubsubx/pubsubx/core/mqtt"
)

// Defaults for the zero values of Options.
const (
	DefaultKeepAlive       = 60 * time.Second
	DefaultReadBufferSize  = 64 << 10
	DefaultWriteBufferSize = 64 << 10
)

// Options configure a connection. The zero value connects with MQTT 5, a
// session that ends with the connection, a 60 s keep-alive and an identifier
// assigned by the server. Options are read by Dial only; the Client keeps a
// copy.
type Options struct {
	// ClientID is the client identifier, the client's name on the server. Empty
	// asks the server to assign one (MQTT 5 returns it: see Client.ClientID);
	// an MQTT 3.1.1 server accepts that only with CleanStart.
	ClientID string
	// Version is the protocol: mqtt.V5 (the default when 0) or mqtt.V311.
	Version mqtt.Version
	// CleanStart discards any session the server holds for ClientID ("clean
	// session" in 3.1.1). Without it the server resumes the session: its
	// subscriptions and queued messages (Client.SessionPresent tells).
	CleanStart bool
	// SessionExpiry is how long the server keeps the session after the
	// connection closes (MQTT 5, whole seconds; the server may lower it and
	// say so in CONNACK). 0 ends the session with the connection;
	// math.MaxUint32 seconds or more means never. MQTT 3.1.1 has no expiry:
	// CleanStart alone decides.
	SessionExpiry time.Duration
	// KeepAlive is the longest the client stays silent: it sends PINGREQ at
	// this interval, and declares the connection lost (ErrKeepAliveTimeout)
	// when nothing at all arrives within another interval after a PINGREQ,
	// so a vanished broker is noticed within two intervals. 0 means
	// DefaultKeepAlive, a negative value disables keep-alive. Rounded up to
	// whole seconds, at most 65535 s. A Server Keep Alive in CONNACK
	// replaces it [MQTT-3.2.2-21].
	KeepAlive time.Duration
	// Username is sent when not empty; Password when not nil (MQTT 3.1.1
	// requires a Username with a Password [MQTT-3.1.2-22]).
	Username string
	Password []byte
	// Will is published by the server if the connection ends without
	// DISCONNECT (or with DisconnectOptions.PublishWill); nil for none.
	Will *Will
	// ReceiveMaximum bounds the QoS 1 and 2 messages the server sends before
	// this client acknowledges them (MQTT 5). 0 leaves the protocol's 65535.
	ReceiveMaximum uint16
	// MaximumPacketSize is the largest packet the client accepts (MQTT 5,
	// told to the server, which then drops larger messages for this client
	// [MQTT-3.1.2-25]); 0 means no limit.
	MaximumPacketSize uint32
	// TopicAliasMaximum is the number of topic aliases the server may set
	// towards this client (MQTT 5). 0 allows none; above 0 the client
	// resolves them, so Message.Topic is always the full topic name.
	TopicAliasMaximum uint16
	// UserProperties are sent in CONNECT (MQTT 5). The slices are read by
	// Dial only.
	UserProperties []mqtt.UserProperty

	// TLSConfig, when not nil, runs TLS over the TCP connection. ServerName
	// defaults to the host of the address dialled.
	TLSConfig *tls.Config
	// Dialer opens the TCP connection; nil uses a zero net.Dialer. Set its
	// LocalAddr to pick a source address (e.g. 127.0.0.2, to open more than
	// one port range's worth of connections to one server).
	Dialer *net.Dialer

	// Handler receives every incoming message, in order, on the client's
	// reader goroutine. The *Message and every slice in it are BORROWED:
	// valid only until Handler returns (Message.Clone copies). Handler must
	// not block for long: nothing else is read meanwhile (keep-alive
	// included), and it must not wait for an acknowledgement (Publish at
	// QoS 1 or 2, Subscribe, Unsubscribe, Disconnect, Close): the reader is
	// the one who would receive it. Use the Async variants, or hand the
	// work to another goroutine (ChannelHandler does). nil discards
	// messages (they are still acknowledged).
	Handler func(*Message)

	// ManualFlush buffers QoS 0 publishes (and PublishAsync at any QoS)
	// until Flush, or until WriteBufferSize bytes are pending: one write
	// system call for many messages. Without it every publish is written
	// before Publish returns.
	ManualFlush bool
	// ReadBufferSize is the size of the one read buffer (default 64 KiB):
	// the bytes handled per read system call.
	ReadBufferSize int
	// WriteBufferSize bounds the bytes buffered by ManualFlush before a
	// publish flushes them itself (default 64 KiB).
	WriteBufferSize int
}

// Will is a connection's Will Message.
type Will struct {
	Topic   string
	Payload []byte
	QoS     mqtt.QoS
	Retain  bool
	// Delay postpones the will after the connection is lost (MQTT 5 Will
	// Delay Interval, whole seconds); a reconnection within it cancels the
	// will [MQTT-3.1.3-9].
	Delay time.Duration
}

// Option errors, returned by Dial.
var (
	ErrBadVersion       = errors.New("client: unsupported protocol version: want mqtt.V5 or mqtt.V311")
	ErrPasswordNoUser   = errors.New("client: MQTT 3.1.1 needs a user name with a password")
	ErrInvalidClientID  = errors.New("client: client identifier is not a valid MQTT string")
	ErrNoIDWithoutClean = errors.New("client: MQTT 3.1.1 needs a client identifier unless CleanStart is set")
)

// withDefaults validates o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	switch o.Version {
	case 0:
		o.Version = mqtt.V5
	case mqtt.V5, mqtt.V311:
	default:
		return o, ErrBadVersion
	}
	if len(o.ClientID) > 65535 || !mqtt.ValidUTF8([]byte(o.ClientID)) {
		return o, ErrInvalidClientID
	}
	if o.Version == mqtt.V311 {
		if o.Password != nil && o.Username == "" {
			return o, ErrPasswordNoUser
		}
		if o.ClientID == "" && !o.CleanStart {
			return o, ErrNoIDWithoutClean // [MQTT-3.1.3-7]
		}
	}
	if o.Will != nil {
		if err := mqtt.ValidTopicName([]byte(o.Will.Topic)); err != nil {
			return o, ErrInvalidTopic
		}
		if o.Will.QoS > 2 {
			return o, ErrInvalidQoS
		}
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.ReadBufferSize <= 0 {
		o.ReadBufferSize = DefaultReadBufferSize
	}
	if o.WriteBufferSize <= 0 {
		o.WriteBufferSize = DefaultWriteBufferSize
	}
	return o, nil
}

// seconds converts d to whole seconds, rounding up, clamped to [0, max].
func seconds(d time.Duration, max uint64) uint64 {
	if d <= 0 {
		return 0
	}
	s := uint64((d + time.Second - 1) / time.Second)
	return min(s, max)
}

// connectPacket builds the CONNECT for o. Its slices alias o's.
func (o *Options) connectPacket() *mqtt.Connect {
	cp := &mqtt.Connect{
		Version:    o.Version,
		CleanStart: o.CleanStart,
		KeepAlive:  uint16(seconds(o.KeepAlive, math.MaxUint16)),
		ClientID:   []byte(o.ClientID),
	}
	if o.Username != "" {
		cp.HasUsername, cp.Username = true, []byte(o.Username)
	}
	if o.Password != nil {
		cp.HasPassword, cp.Password = true, o.Password
	}
	if w := o.Will; w != nil {
		cp.WillFlag, cp.WillQoS, cp.WillRetain = true, w.QoS, w.Retain
		cp.WillTopic, cp.WillPayload = []byte(w.Topic), w.Payload
		if cp.WillPayload == nil {
			cp.WillPayload = []byte{}
		}
		if w.Delay > 0 {
			cp.WillProps.WillDelay = uint32(seconds(w.Delay, math.MaxUint32))
			cp.WillProps.Set(mqtt.PropWillDelay)
		}
	}
	if o.Version != mqtt.V5 {
		return cp
	}
	p := &cp.Props
	if o.SessionExpiry > 0 {
		p.SessionExpiry = uint32(seconds(o.SessionExpiry, math.MaxUint32))
		p.Set(mqtt.PropSessionExpiry)
	}
	if o.ReceiveMaximum > 0 {
		p.ReceiveMaximum = o.ReceiveMaximum
		p.Set(mqtt.PropReceiveMaximum)
	}
	if o.MaximumPacketSize > 0 {
		p.MaximumPacketSize = o.MaximumPacketSize
		p.Set(mqtt.PropMaximumPacketSize)
	}
	if o.TopicAliasMaximum > 0 {
		p.TopicAliasMaximum = o.TopicAliasMaximum
		p.Set(mqtt.PropTopicAliasMaximum)
	}
	p.UserProperties = o.UserProperties
	return cp
}
