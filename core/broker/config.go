package broker

import (
	"time"

	"github.com/pubsubx/pubsubx/core/acl"
	"github.com/pubsubx/pubsubx/core/logx"
)

// Config sets the broker's behaviour and bounds. Zero values take the
// defaults below (see WithDefaults).
type Config struct {
	// Grace is how long the session of a client that went away is kept:
	// subscriptions, queued and in-flight messages. It is the default session
	// expiry of MQTT 3.1.1 clients with clean session 0, and it caps the
	// Session Expiry Interval an MQTT 5 client asks for. Default 60 s; a
	// negative value keeps nothing.
	Grace time.Duration
	// MaxPacketSize bounds an inbound packet; larger ones close the
	// connection (MQTT 5: reason 0x95). Told to MQTT 5 clients in CONNACK.
	// Default 1 MiB.
	MaxPacketSize int
	// MaxConnections bounds the open connections; CONNECTs beyond it are
	// refused (server busy). Default 100,000.
	MaxConnections int
	// MaxQueuedMessages bounds the deliveries queued for one session (client
	// away, or not taking messages fast enough). Default 10,000.
	MaxQueuedMessages int
	// MaxQueuedBytes bounds the bytes of the messages queued for one session.
	// Default 64 MiB.
	MaxQueuedBytes int
	// MaxQueuedTotalBytes bounds the memory held by the queues of all
	// sessions together, so that many clients away or slow at once cannot
	// exhaust memory although each stays within MaxQueuedBytes: every queued
	// message counts once (its bytes and struct) however many sessions queue
	// it, plus a slot per queued delivery. Messages in flight (sent, awaiting
	// acknowledgement) are bounded by MaxInflight instead. Default 1 GiB.
	MaxQueuedTotalBytes int64
	// MaxInflight bounds the outbound QoS 1 and 2 messages awaiting
	// acknowledgement per session (MQTT 3.1.1; MQTT 5 clients' Receive
	// Maximum is capped by it). Default 1,024.
	MaxInflight int
	// MaxSubscriptions bounds the subscriptions of one session; a SUBSCRIBE
	// to a new filter beyond it gets 0x97 quota exceeded for that filter
	// (0x80 in MQTT 3.1.1). Default 10,000.
	MaxSubscriptions int
	// MaxRetained bounds the retained messages the broker holds; beyond it
	// a retained message to a new topic is routed but not retained (counted
	// in Stats.DroppedRetained, with a WARN line). Replacing or deleting a
	// retained message always works. Default 100,000.
	MaxRetained int
	// ReceiveMaximum is the number of inbound QoS 2 messages a client may
	// have unreleased (told to MQTT 5 clients in CONNACK). Default 1,024.
	ReceiveMaximum uint16
	// TopicAliasMaximum is the number of inbound topic aliases a client may
	// set per connection (MQTT 5). Default 64.
	TopicAliasMaximum uint16
	// MaxKeepAlive caps the keep-alive clients may ask for, in seconds; 0 is
	// no cap. MQTT 5 clients asking more (or 0) are told the cap as Server
	// Keep Alive; MQTT 3.1.1 clients asking more are refused (identifier
	// rejected), as mosquitto does.
	MaxKeepAlive uint16
	// ConnectTimeout closes connections that send no CONNECT in time.
	// Default 10 s.
	ConnectTimeout time.Duration
	// ACL restricts publishing and subscribing; nil allows everything.
	ACL *acl.ACL
	// Log receives the diagnostics; nil discards them.
	Log *logx.Logger
}

// Defaults for Config's zero values.
const (
	DefaultGrace               = 60 * time.Second
	DefaultMaxPacketSize       = 1 << 20
	DefaultMaxConnections      = 100_000
	DefaultMaxQueuedMessages   = 10_000
	DefaultMaxQueuedBytes      = 64 << 20
	DefaultMaxQueuedTotalBytes = 1 << 30
	DefaultMaxInflight         = 1024
	DefaultMaxSubscriptions    = 10_000
	DefaultMaxRetained         = 100_000
	DefaultReceiveMaximum      = 1024
	DefaultTopicAliasMaximum   = 64
	DefaultConnectTimeout      = 10 * time.Second
)

// WithDefaults returns c with zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	if c.Grace < 0 {
		c.Grace = 0
	}
	if c.MaxPacketSize <= 0 {
		c.MaxPacketSize = DefaultMaxPacketSize
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxQueuedMessages <= 0 {
		c.MaxQueuedMessages = DefaultMaxQueuedMessages
	}
	if c.MaxQueuedBytes <= 0 {
		c.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if c.MaxQueuedTotalBytes <= 0 {
		c.MaxQueuedTotalBytes = DefaultMaxQueuedTotalBytes
	}
	if c.MaxInflight <= 0 || c.MaxInflight > 65535 {
		c.MaxInflight = DefaultMaxInflight
	}
	if c.MaxSubscriptions <= 0 {
		c.MaxSubscriptions = DefaultMaxSubscriptions
	}
	if c.MaxRetained <= 0 {
		c.MaxRetained = DefaultMaxRetained
	}
	if c.ReceiveMaximum == 0 {
		c.ReceiveMaximum = DefaultReceiveMaximum
	}
	if c.TopicAliasMaximum == 0 {
		c.TopicAliasMaximum = DefaultTopicAliasMaximum
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	return c
}
