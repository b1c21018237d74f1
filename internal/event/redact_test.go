package event

import (
	"net/http"
	"reflect"
	"testing"
)

func TestIsCredentialHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "authorization": true, "X-Gitlab-Token": true, "x-gitlab-token": true,
		"X-Hub-Signature-256": true, "Webhook-Signature": true, "X-Custom-SECRET-Key": true,
		"X-My-Password": true, "X-Api-Tokens": true, "Cookie": true,
		"X-GitHub-Event": false, "Content-Type": false, "X-Gitlab-Event": false, "Tok": false, "": false,
		"X-Sig": false, "X-Signatur": false,
	} {
		if got := IsCredentialHeader(name); got != want {
			t.Errorf("IsCredentialHeader(%q) = %v, want %v", name, got, want)
		}
	}
	if !IsCredentialHeader("X-Shared-Key", "x-shared-key") {
		t.Error("an extra header name is not redacted")
	}
}

func TestRedactHeaderCopies(t *testing.T) {
	h := http.Header{
		"X-Github-Event":      {"push"},
		"X-Hub-Signature-256": {"sha256=abc"},
		"Accept":              {"a", "b"},
		"Empty":               {},
	}
	got := RedactHeader(h)
	want := map[string][]string{
		"X-Github-Event":      {"push"},
		"X-Hub-Signature-256": {Redacted},
		"Accept":              {"a", "b"},
		"Empty":               {},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RedactHeader = %v, want %v", got, want)
	}
	// A copy: appending to or changing one value touches nothing else.
	got["X-Github-Event"] = append(got["X-Github-Event"], "x")
	got["Accept"][0] = "changed"
	if h.Get("Accept") != "a" || got["X-Hub-Signature-256"][0] != Redacted || len(got["X-Github-Event"]) != 2 {
		t.Fatalf("values share memory: %v / %v", got, h)
	}
}
