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

func TestFailuresStayBounded(t *testing.T) {
	f := New(1, time.Minute)
	t0 := time.Unix(1_000_000, 0)
	for i := range 3 * maxClients {
		f.Fail(fmt.Sprint("client-", i), t0)
	}
	if n := len(f.clients); n > maxClients {
		t.Fatalf("%d clients remembered, want at most %d", n, maxClients)
	}
}

func TestClientKey(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.7:51234"
	if got := ClientKey(r); got != "192.0.2.7" {
		t.Fatalf("ClientKey = %q", got)
	}
	r.RemoteAddr = "[2001:db8::1]:443"
	if got := ClientKey(r); got != "2001:db8::1" {
		t.Fatalf("ClientKey = %q", got)
	}
}
