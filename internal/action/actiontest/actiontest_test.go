package actiontest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/event"
)

func TestActiontestEvent(t *testing.T) {
	in := Event(t)
	ev, err := in.Record.Event()
	if err != nil {
		t.Fatal(err)
	}
	f := ev.Data.Normalized
	if ev.ID != "4f205aa1-a291-5884-8b41-efa4ea4736db" || ev.Forge != "github" || ev.ForgeEvent != "push" ||
		ev.Endpoint != Endpoint || ev.Type != "dev.forgehook.push" || ev.Subject != "refs/heads/master" ||
		f.Kind != event.KindPush || f.Branch != "master" || f.Repository.FullName != "Codertocat/Hello-World" ||
		len(f.Commits) != 1 || !ev.Time.Equal(Received) || in.Trigger != Trigger || in.Attempt != 1 {
		t.Errorf("Event: %+v", ev)
	}
	if got := ev.Data.Header["X-Hub-Signature-256"]; len(got) != 1 || got[0] != event.Redacted {
		t.Errorf("signature header stored as %q, want it redacted", got)
	}
	var back event.Event
	if err := json.Unmarshal(in.Record.Raw(), &back); err != nil || back.ID != ev.ID {
		t.Errorf("Raw does not decode to the record: %v", err)
	}
	if bytes.Contains(in.Record.Raw(), []byte(HookSecret)) {
		t.Error("the record holds the hook secret")
	}
	// Each call is independent.
	in.Record.Raw()[8] = 'X'
	if Event(t).Record.Raw()[8] == 'X' {
		t.Error("Event shares its record between calls")
	}
	// Edit changes a copy.
	edited := Edit(t, in, func(ev *event.Event) { ev.ID = "changed" })
	if edited.Record.ID() != "changed" || ev.ID == "changed" || Decoded(t, edited).ID != "changed" {
		t.Errorf("Edit: id %q, original %q", edited.Record.ID(), ev.ID)
	}
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, a ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, a...))
}

func TestActiontestAssertNoSecret(t *testing.T) {
	const s = "s3cr3t/+value"
	var log bytes.Buffer
	log.WriteString("level=info msg=ok\n")
	for _, tc := range []struct {
		name  string
		thing any
		leaks bool
	}{
		{"clean error", errors.New("POST https://h/x: 502"), false},
		{"error", fmt.Errorf("wrapped: %w", errors.New("key "+s)), true},
		{"result output", action.Result{Output: "echo " + s}, true},
		{"result pointer", &action.Result{Output: "ok"}, false},
		{"query-escaped", "https://h/?k=s3cr3t%2F%2Bvalue", true},
		{"base64", "Basic czNjcjN0Lyt2YWx1ZQ==", true},
		{"quoted", `"s3cr3t/+value"`, true},
		{"bytes", []byte("x " + s), true},
		{"stringer", &log, false},
		{"func", func() string { return s }, true},
		{"struct", struct{ A string }{s}, true},
		{"nil", nil, false},
	} {
		r := &recorder{TB: t}
		AssertNoSecret(r, s, tc.thing)
		if got := len(r.msgs) > 0; got != tc.leaks {
			t.Errorf("%s: reported a leak %v, want %v (%v)", tc.name, got, tc.leaks, r.msgs)
		}
		for _, m := range r.msgs {
			if strings.Contains(m, s) {
				t.Errorf("%s: the failure message shows the secret: %q", tc.name, m)
			}
		}
	}
}
