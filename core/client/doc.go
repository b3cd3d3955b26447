// Package client is PubSubX's MQTT 3.1.1 and 5.0 client library, used by
// the interactive client, the load generator and users' programs. It shares
// the codec (core/mqtt) with the broker and knows nothing of the server's
// side.
//
//	c, err := client.Dial(ctx, "localhost:1883", client.Options{
//		ClientID:      "homer",
//		SessionExpiry: time.Minute, // keep the session for a minute after a loss
//		Handler: func(m *client.Message) {
//			fmt.Printf("[%s] %s\n", m.Topic, m.Payload) // m is borrowed: see below
//		},
//	})
//	if err != nil { ... }
//	defer c.Disconnect(ctx)
//	if _, err := c.Subscribe(ctx, client.Subscription{Filter: "news/#", QoS: 1}); err != nil { ... }
//	err = c.Publish(ctx, "news/today", []byte("hello"), client.PublishOptions{QoS: 1})
//
// # Lifetimes: messages are borrowed
//
// The Handler is called with a *Message that the client reuses: the
// Message and every slice in it (Topic, Payload, each property, the
// subscription identifiers) point into the client's read buffer and are
// valid ONLY UNTIL THE HANDLER RETURNS. Copy what you keep (Message.Clone
// copies everything in one allocation; ChannelHandler sends clones to a
// channel). This is what lets the receive path run without allocating:
// one read system call fills a large buffer, the codec's parser splits it
// into packets in place, each PUBLISH is decoded into the same Message and
// handed over. Message.ReceivedAt is taken once per read, not per message.
//
// Arguments are read during the call only: a payload passed to Publish may
// be reused as soon as Publish (or PublishAsync) returns. Client.Connack and
// Pending.Reasons return values owned by the client; do not modify them.
//
// # Concurrency
//
// Every method of Client is safe for concurrent use. Publishes from
// several goroutines are written in the order they took the client's lock;
// concurrent writers share write system calls. The Handler runs on the
// client's single reader goroutine, one message at a time, in the order the
// server sent them; while it runs nothing else is read. The Handler may
// publish at QoS 0, use PublishAsync, SubscribeAsync and UnsubscribeAsync,
// but must not wait for an acknowledgement (Publish at QoS 1 or 2,
// Subscribe, Unsubscribe) nor call Disconnect or Close: their answer is
// read by the goroutine the Handler is blocking. A Client runs two
// goroutines, the reader and the keep-alive timer; both have ended when
// Disconnect or Close returns, or shortly after Done is closed.
//
// # Flow control and batching
//
// QoS 1 and 2 publishes wait for a slot in the server's Receive Maximum
// (from CONNACK) before they are sent. With Options.ManualFlush, QoS 0
// publishes accumulate in a buffer until Flush (or until
// Options.WriteBufferSize bytes are pending), so that one write system call
// carries many messages; otherwise each Publish writes before it returns.
// Acknowledgements the client owes are written once per read batch.
//
// # Errors
//
// Errors are typed. A refusal by the server carries its reason code in a
// *ReasonError (errors.As): a CONNACK refusing the connection, a SUBACK or
// UNSUBACK failure code, a PUBACK, PUBREC or PUBCOMP failure code, or a
// DISCONNECT sent by the server. Sentinel errors, prefixed "client: ", name
// the other cases: ErrClosed after Disconnect or Close, ErrConnectionLost
// (matched by every error that ends a connection this side did not close,
// ErrKeepAliveTimeout among them), ErrInvalidTopic, ErrPacketTooLarge and
// the other checks made before sending. Done and Err tell when and why a
// connection ended. The client does not reconnect by itself: Dial again
// with the same ClientID and without CleanStart to resume the session.
// Outbound QoS 1 and 2 messages not yet acknowledged when a connection
// ends are not resent by a new Client; the server resends its own.
package client
