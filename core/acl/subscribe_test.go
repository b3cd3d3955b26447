package acl

import (
	"strings"
	"testing"
)

func TestFilterOverlapsAndCovers(t *testing.T) {
	for _, tc := range []struct {
		a, b             string
		overlap, aCovers bool
	}{
		{"a/b", "a/b", true, true},
		{"a/+", "a/b", true, true},
		{"a/b", "a/+", true, false},
		{"a/#", "a", true, true},
		{"a/#", "a/b/c", true, true},
		{"a/b/c", "a/#", true, false},
		{"#", "$SYS/x", false, false},
		{"+/x", "$SYS/x", false, false},
		{"$SYS/#", "#", false, false},
		{"a/+/c", "a/b/+", true, false},
		{"a/b", "a/c", false, false},
		{"a", "a/b", false, false},
		{"a/+", "a/+/c", false, false},
		{"+/+", "a/#", true, false},
		{"#", "a/#", true, true},
		{"a/+/#", "a/b", true, true},
	} {
		a, b := strings.Split(tc.a, "/"), strings.Split(tc.b, "/")
		if got := overlaps(a, b); got != tc.overlap {
			t.Errorf("overlaps(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.overlap)
		}
		if got := overlaps(b, a); got != tc.overlap {
			t.Errorf("overlaps(%q, %q) = %v, want %v (symmetry)", tc.b, tc.a, got, tc.overlap)
		}
		if got := covers(a, b); got != tc.aCovers {
			t.Errorf("covers(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.aCovers)
		}
	}
}

func TestCanSubscribePatternsAndShared(t *testing.T) {
	a, err := Parse(strings.NewReader("pattern read devices/%c/#\nuser ops\ntopic read ops/#\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		client, user, filter string
		want                 bool
	}{
		{"d1", "", "devices/d1/temp", true},
		{"d1", "", "devices/d2/temp", false},
		{"d1", "", "devices/+/temp", true},
		{"d1", "", "$share/g/devices/d1/#", true},
		{"d1", "", "$share/g/devices/d2/#", false},
		{"d+", "", "devices/+/temp", false}, // wildcard in the client id
		{"x", "ops", "ops/alerts", true},
		{"x", "ops", "devices/x/y", true}, // patterns apply to users too
		{"x", "ops", "other", false},
	} {
		if got := a.CanSubscribe(tc.client, tc.user, tc.user != "", []byte(tc.filter)); got != tc.want {
			t.Errorf("client %q user %q subscribe %q: %v, want %v", tc.client, tc.user, tc.filter, got, tc.want)
		}
	}
	var none *ACL
	if !none.CanSubscribe("c", "", false, []byte("#")) {
		t.Error("nil ACL refused a subscription")
	}
}
