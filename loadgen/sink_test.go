package loadgen

import (
	"context"
	"net"
	"testing"
	"time"
)

// startSink runs the flooding sink on a loopback port until the test ends.
func startSink(t testing.TB, size int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ServeSink(ln, size) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("ServeSink: %v", err)
		}
	})
	return ln.Addr().String()
}

func TestCeilingAgainstSink(t *testing.T) {
	addr := startSink(t, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := MeasureCeiling(ctx, addr, 10, 64, 100*time.Millisecond, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ceiling %.0f msgs/s, loadgen CPU %.2f", c.Rate, c.Loadgen.CPU)
	if c.Rate <= 0 || c.Malformed != 0 {
		t.Errorf("rate %.0f msgs/s, %d malformed; want a positive rate and no malformed message", c.Rate, c.Malformed)
	}
}

// BenchmarkCeiling measures the subscribers' receive rate against the
// flooding sink in this process (so sink and subscribers share the CPUs):
// msgs/s, and msgs/s per core of this process's CPU time.
func BenchmarkCeiling(b *testing.B) {
	addr := startSink(b, 64)
	for b.Loop() {
		c, err := MeasureCeiling(context.Background(), addr, 100, 64, 200*time.Millisecond, time.Second)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(c.Rate, "msgs/s")
		b.ReportMetric(c.Rate/c.Loadgen.CPU, "msgs/s/core")
	}
}
