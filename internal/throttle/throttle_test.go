package throttle

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

func TestFailuresRefuseAfterTheLimitUntilTheWindowEnds(t *testing.T) {
	f := New(3, time.Minute)
	t0 := time.Unix(1_000_000, 0)
	for i := range 3 {
		if ok, _ := f.Allow("a", t0); !ok {
			t.Fatalf("attempt %d refused before the limit", i+1)
		}
		f.Fail("a", t0.Add(time.Duration(i)*time.Second))
	}
	ok, wait := f.Allow("a", t0.Add(10*time.Second))
	if ok || wait != 50*time.Second {
		t.Fatalf("after 3 failures: Allow = %v, %v; want refused for 50s", ok, wait)
	}
	if ok, _ := f.Allow("b", t0); !ok {
		t.Fatal("another client is refused")
	}
	if ok, _ := f.Allow("a", t0.Add(time.Minute)); !ok {
		t.Fatal("still refused once the window ended")
	}
	// A new window starts at the next failure.
	f.Fail("a", t0.Add(2*time.Minute))
	if ok, _ := f.Allow("a", t0.Add(2*time.Minute)); !ok {
		t.Fatal("one failure in a new window refused")
	}
	// Success forgets.
	for range 3 {
		f.Fail("c", t0)
	}
	f.Succeed("c")
	if ok, _ := f.Allow("c", t0); !ok {
		t.Fatal("refused after a success")
	}
}

// TestThrottleBoundedWithoutReset fills the table past MaxClients: memory
// stays bounded, and only the oldest records make room; every other
// refused client stays refused (the old code forgot everyone at once).
func TestThrottleBoundedWithoutReset(t *testing.T) {
	f := New(1, time.Minute)
	t0 := time.Unix(1_000_000, 0)
	for i := range MaxClients {
		f.Fail(fmt.Sprint("client-", i), t0.Add(time.Duration(i)*time.Millisecond))
	}
	now := t0.Add(20 * time.Second)
	for i := range 100 {
		f.Fail(fmt.Sprint("new-", i), now)
	}
	if n := f.Len(); n != MaxClients {
		t.Fatalf("%d clients remembered, want %d", n, MaxClients)
	}
	for i := range MaxClients {
		ok, _ := f.Allow(fmt.Sprint("client-", i), now)
		if want := i < 100; ok != want {
			t.Fatalf("client-%d: allowed %v, want %v (only the 100 oldest make room)", i, ok, want)
		}
	}
	for i := range 100 {
		if ok, _ := f.Allow(fmt.Sprint("new-", i), now); ok {
			t.Fatalf("new-%d allowed after its failure", i)
		}
	}
	// Expired records leave first, and a list walk stays consistent.
	later := t0.Add(2 * time.Minute)
	f.Fail("late", later)
	if n := f.Len(); n != 1 {
		t.Fatalf("after every window ended: %d records, want 1", n)
	}
	f.Succeed("late")
	if f.Len() != 0 || f.oldest != nil || f.newest != nil {
		t.Fatalf("not empty after Succeed: %d, %v, %v", f.Len(), f.oldest, f.newest)
	}
}

func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:51234":        "192.0.2.7",
		"[2001:db8::1]:443":      "2001:db8::/64",
		"[2001:db8::ffff:1]:1":   "2001:db8::/64",
		"[::ffff:192.0.2.8]:80":  "192.0.2.8",
		"[fe80::1%eth0]:80":      "fe80::/64",
		"not-an-address":         "not-an-address",
		"[2001:db8:0:1::5]:8081": "2001:db8:0:1::/64",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		if got := ClientKey(r); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", addr, got, want)
		}
	}
}
