package topics

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func TestTreeSetGetDelete(t *testing.T) {
	tree := NewTree[string]()
	topic := []byte("a/b")
	tree.Set(topic, "v1")
	topic[0] = 'z' // Set copied the name
	if v, ok := tree.Get([]byte("a/b")); !ok || v != "v1" {
		t.Fatalf("Get(a/b) = %q, %v", v, ok)
	}
	tree.Set([]byte("a/b"), "v2")
	tree.Set([]byte("a"), "parent")
	tree.Set([]byte("/"), "slash")
	if tree.Len() != 3 {
		t.Fatalf("Len = %d, want 3 (Set on an existing name replaces)", tree.Len())
	}
	for name, want := range map[string]string{"a/b": "v2", "a": "parent", "/": "slash"} {
		if v, ok := tree.Get([]byte(name)); !ok || v != want {
			t.Fatalf("Get(%q) = %q, %v; want %q", name, v, ok, want)
		}
	}
	for _, name := range []string{"a/b/c", "b", "", "a/", "/a"} {
		if _, ok := tree.Get([]byte(name)); ok {
			t.Fatalf("Get(%q) found a value never set", name)
		}
	}
	if tree.Delete([]byte("a/b/c")) || tree.Delete([]byte("x")) {
		t.Fatalf("Delete of a missing name reported success")
	}
	if !tree.Delete([]byte("a")) || tree.Delete([]byte("a")) {
		t.Fatalf("Delete(a) twice: want true then false")
	}
	if v, ok := tree.Get([]byte("a/b")); !ok || v != "v2" {
		t.Fatalf("deleting the parent lost the child: %q, %v", v, ok)
	}
	if tree.root.children["a"] == nil {
		t.Fatalf("a pruned although a/b still has a value")
	}
	tree.Delete([]byte("a/b"))
	if tree.root.children["a"] != nil {
		t.Fatalf("a not pruned after its last value went")
	}
	tree.Delete([]byte("/"))
	if tree.root.children != nil || tree.Len() != 0 {
		t.Fatalf("root not empty: %v, Len %d", tree.root.children, tree.Len())
	}
}

func TestTreeDeletePrunesDeepPaths(t *testing.T) {
	tree := NewTree[int]()
	tree.Set([]byte("a/b/c/d/e"), 1)
	tree.Set([]byte("a/b/x"), 2)
	tree.Delete([]byte("a/b/c/d/e"))
	b := tree.root.children["a"].children["b"]
	if b.children["c"] != nil || b.children["x"] == nil {
		t.Fatalf("a/b/c/d not pruned, or a/b/x lost: %v", b.children)
	}
}

func TestTreeMatchFilterStops(t *testing.T) {
	tree := NewTree[int]()
	for i := range 10 {
		tree.Set([]byte(fmt.Sprintf("s/%d", i)), i)
		tree.Set([]byte(fmt.Sprintf("s/%d/deeper", i)), i)
	}
	for _, filter := range []string{"s/+", "s/#", "#", "+/+"} {
		calls := 0
		tree.MatchFilter([]byte(filter), func(string, int) bool {
			calls++
			return calls < 3
		})
		if calls != 3 {
			t.Fatalf("MatchFilter(%q) went on after fn returned false: %d calls", filter, calls)
		}
	}
	var got []string
	tree.MatchFilter([]byte("s/+/deeper"), func(topic string, v int) bool {
		got = append(got, topic)
		return true
	})
	if len(got) != 10 {
		t.Fatalf("MatchFilter(s/+/deeper) = %q", got)
	}
}

func TestTreeMatchFilterInvalidHash(t *testing.T) {
	tree := NewTree[int]()
	tree.Set([]byte("a/b/c"), 1)
	tree.MatchFilter([]byte("a/#/c"), func(topic string, _ int) bool {
		t.Fatalf("invalid filter a/#/c matched %q", topic)
		return true
	})
}

func TestTreeConcurrent(t *testing.T) {
	tree := NewTree[int]()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := []byte(fmt.Sprintf("w/%d", w))
			for i := range 500 {
				tree.Set(own, i)
				seen := false
				tree.MatchFilter([]byte("w/+"), func(topic string, v int) bool {
					seen = seen || topic == string(own)
					return true
				})
				if !seen {
					t.Errorf("worker %d did not see its own value", w)
					return
				}
				tree.Delete(own)
			}
		}()
	}
	wg.Wait()
	if tree.Len() != 0 {
		t.Fatalf("Len = %d after all deletes", tree.Len())
	}
}

func TestTreeGetDoesNotAllocate(t *testing.T) {
	tree := NewTree[int]()
	tree.Set([]byte("a/b/c"), 1)
	name := []byte("a/b/c")
	if allocs := testing.AllocsPerRun(1000, func() { tree.Get(name) }); allocs != 0 {
		t.Fatalf("Get allocates %.1f times", allocs)
	}
	var topics []string
	tree.MatchFilter([]byte("a/#"), func(topic string, _ int) bool {
		topics = append(topics, topic)
		return true
	})
	if !slices.Equal(topics, []string{"a/b/c"}) {
		t.Fatalf("MatchFilter(a/#) = %q", topics)
	}
}
