package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/forgehook/forgehook/internal/verify"
)

// fixturePath is the real GitHub push delivery the payloads are built from,
// relative to the module root.
const fixturePath = "internal/forge/github/testdata/deliveries/push.with-new-branch.txtar"

// benchSecret is the endpoint's secret in every forgehook configuration of
// the benchmark.
const benchSecret = "forgehook-bench-secret"

// payload is one signed GitHub push delivery: the body and the headers that
// do not change from one request to the next.
type payload struct {
	Body      []byte
	Signature string // X-Hub-Signature-256
}

// loadPushFixture returns the body of the GitHub push fixture.
func loadPushFixture(root string) ([]byte, error) {
	a, err := txtar.ParseFile(filepath.Join(root, fixturePath))
	if err != nil {
		return nil, err
	}
	for _, f := range a.Files {
		if f.Name == "body" {
			return bytes.TrimSuffix(f.Data, []byte("\n")), nil
		}
	}
	return nil, fmt.Errorf("%s: no body section", fixturePath)
}

// makePayload builds a GitHub push payload of exactly size bytes from the
// fixture's body: it adds commits like the fixture's one (with distinct
// ids) until the next would not fit, then pads the last commit's message.
// The result is signed with benchSecret.
func makePayload(fixture []byte, size int) (*payload, error) {
	var doc map[string]any
	if err := json.Unmarshal(fixture, &doc); err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	commits, _ := doc["commits"].([]any)
	if len(commits) == 0 {
		return nil, errors.New("fixture: a push with at least one commit is needed")
	}
	proto, _ := commits[0].(map[string]any)
	commitN := func(i int, msg string) map[string]any {
		c := make(map[string]any, len(proto))
		for k, v := range proto {
			c[k] = v
		}
		sum := sha1.Sum(fmt.Appendf(nil, "forgehook-bench-%d", i))
		id := hex.EncodeToString(sum[:])
		c["id"] = id
		c["url"] = strings.TrimSuffix(fmt.Sprint(proto["url"]), fmt.Sprint(proto["id"])) + id
		c["message"] = msg
		return c
	}
	encode := func(cs []any) ([]byte, error) {
		doc["commits"] = cs
		last := cs[len(cs)-1].(map[string]any)
		doc["head_commit"] = last
		doc["after"] = last["id"]
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(doc); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
	}
	cs := []any{commitN(0, "Update the README")}
	body, err := encode(cs)
	if err != nil {
		return nil, err
	}
	if len(body) > size {
		return nil, fmt.Errorf("payload size %d: the smallest push is %d bytes", size, len(body))
	}
	for {
		next := append(append([]any(nil), cs...), commitN(len(cs), "Update the README"))
		b, err := encode(next)
		if err != nil {
			return nil, err
		}
		if len(b) > size {
			break
		}
		cs, body = next, b
	}
	// The last commit (also head_commit) carries the padding: each byte
	// of its message appears twice in the document.
	missing := size - len(body)
	msg := "Update the README" + strings.Repeat("x", missing/2)
	last := commitN(len(cs)-1, msg)
	cs[len(cs)-1] = last
	if missing%2 == 1 {
		// One byte left: lengthen the message of a commit that appears once.
		if len(cs) > 1 {
			cs[0] = commitN(0, "Update the README.")
		} else {
			doc["compare"] = fmt.Sprint(doc["compare"]) + "#"
		}
	}
	if body, err = encode(cs); err != nil {
		return nil, err
	}
	if len(body) != size {
		return nil, fmt.Errorf("payload: built %d bytes, want %d", len(body), size)
	}
	return &payload{
		Body:      body,
		Signature: verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(benchSecret), body),
	}, nil
}
