package client_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/pubsubx/pubsubx/core/broker"
	"github.com/pubsubx/pubsubx/core/broker/brokertest"
	"github.com/pubsubx/pubsubx/core/client"
)

// TestTLS runs the client through a TLS-terminating front (as stunnel or a
// load balancer would be) to the real broker, verifying the front's
// certificate for the host name dialled.
func TestTLS(t *testing.T) {
	s := brokertest.Start(t, "goroutine", broker.Config{})
	cert, pool := selfSigned(t, "localhost")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			front, err := ln.Accept()
			if err != nil {
				return
			}
			back, err := net.Dial("tcp", s.Addr)
			if err != nil {
				front.Close()
				continue
			}
			go func() { io.Copy(back, front); back.Close() }()
			go func() { io.Copy(front, back); front.Close() }()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx := testContext(t)
	in := newInbox()
	c := dial(t, "localhost:"+port, client.Options{ClientID: "secure", TLSConfig: &tls.Config{RootCAs: pool}, Handler: in.handler()})
	if _, err := c.Subscribe(ctx, client.Subscription{Filter: "t", QoS: 1}); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, "t", []byte("over TLS"), client.PublishOptions{QoS: 1}); err != nil {
		t.Fatal(err)
	}
	in.expect(t, "t", "over TLS")
	if err := c.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}

	// A certificate for another name is refused.
	_, err = client.Dial(ctx, "127.0.0.1:"+port, client.Options{ClientID: "x", TLSConfig: &tls.Config{RootCAs: pool}})
	if err == nil {
		t.Fatal("TLS to 127.0.0.1 accepted a certificate for localhost only")
	}
}

// selfSigned returns a certificate for host and a pool trusting it.
func selfSigned(t *testing.T, host string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
