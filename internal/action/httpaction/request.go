package httpaction

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"time"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// Content types of the request bodies.
const (
	contentTypeStructured = "application/cloudevents+json"
	contentTypeJSON       = "application/json"
)

// The Standard Webhooks headers.
//
// Spec: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
const (
	headerWebhookID        = "Webhook-Id"
	headerWebhookTimestamp = "Webhook-Timestamp"
	headerWebhookSignature = "Webhook-Signature"
)

// ErrNoSigner is wrapped by the error of a format original attempt whose
// action has a secret but whose event's forge cannot sign deliveries.
var ErrNoSigner = errors.New("forge cannot sign deliveries")

// request builds the HTTP request for in, bound to ctx. The CloudEvents
// formats send the stored bytes and read only the record's head (its id);
// format original reads the whole decoded record.
func (a *Action) request(ctx context.Context, in action.Input) (*http.Request, error) {
	head, err := in.Record.Head()
	if err != nil {
		return nil, err
	}
	if head.ID == "" {
		return nil, errors.New("the record has no id")
	}
	id, raw := head.ID, in.Record.Raw()
	// Room for the configured headers and those set below: a map that
	// grows, or one larger than needed, costs more allocations.
	n := len(a.headers) + 8
	var ev *event.Event
	var argo []byte
	switch a.format {
	case FormatBinary:
		n += 16 // the ce-* attributes
	case FormatOriginal:
		if ev, err = in.Record.Event(); err != nil {
			return nil, err
		}
		n += len(ev.Data.Header)
	case FormatArgo:
		var full *event.Event
		if full, err = in.Record.Event(); err != nil {
			return nil, err
		}
		if argo, err = event.Argo(full); err != nil {
			return nil, err
		}
	}
	h := make(http.Header, n)
	if ev != nil {
		copyOriginal(h, ev.Data.Header, ev.Forge)
	}
	for k, v := range a.headers {
		h[k] = slices.Clone(v)
	}
	now := a.now()
	var body []byte
	switch a.format {
	case FormatCloudEvents:
		body = raw
		h.Set("Content-Type", contentTypeStructured)
		a.signStandard(h, id, body, now)
	case FormatBinary:
		if body, err = setBinary(h, raw); err != nil {
			return nil, err
		}
		a.signStandard(h, id, body, now)
	case FormatArgo:
		body = argo
		h.Set("Content-Type", contentTypeJSON)
		a.signStandard(h, id, body, now)
	case FormatOriginal:
		body = ev.Data.Body
		// The record keeps the JSON document even when the forge sent a
		// form, so the body is JSON either way.
		h.Set("Content-Type", contentTypeJSON)
		if a.secret != "" {
			var s forge.Signer
			if a.signer != nil {
				if fs := a.signer(ev.Forge); fs != nil {
					s = fs
				}
			}
			if s == nil {
				return nil, fmt.Errorf("format original: %w: %q (remove secret, or use format cloudevents)", ErrNoSigner, ev.Forge)
			}
			s.Sign(h, body, a.secret.Reveal(), now)
		}
	}
	h.Set(HeaderEventID, id)
	ua := UserAgent
	if ev != nil {
		// A tool that expects the forge's webhook may check its agent.
		ua = cmp.Or(originalUserAgent(ev.Data.Header), UserAgent)
	}
	h.Set("User-Agent", ua)
	req, err := http.NewRequestWithContext(ctx, a.method, a.rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("cannot build the request") // its error would repeat the URL
	}
	req.Header = h
	return req, nil
}

// signStandard sets the Standard Webhooks headers for body when the
// action has a secret.
func (a *Action) signStandard(h http.Header, id string, body []byte, now time.Time) {
	if a.secret == "" {
		return
	}
	ts := now.Unix()
	h.Set(headerWebhookID, id)
	h.Set(headerWebhookTimestamp, strconv.FormatInt(ts, 10))
	h.Set(headerWebhookSignature, verify.SignStandardWebhooks(a.swKey, id, ts, body))
}

// setBinary sets on h the headers of a binary-mode CloudEvent for the
// stored record raw, and returns the body: the record's data. Every
// top-level member of the record other than data and datacontenttype is a
// context attribute and becomes a ce-<name> header with its value
// percent-encoded; datacontenttype becomes Content-Type.
//
// Spec: https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md#31-binary-content-mode
func setBinary(h http.Header, raw []byte) ([]byte, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	ct := contentTypeJSON
	for name, v := range members {
		switch name {
		case "data", "data_base64":
			continue
		case "datacontenttype":
			var s string
			if json.Unmarshal(v, &s) == nil && s != "" {
				ct = s
			}
			continue
		}
		if !attributeName(name) {
			continue
		}
		s, ok := attributeValue(v)
		if !ok {
			continue
		}
		// Header names are set as the binding writes them (ce-id);
		// http.Header canonicalizes them (Ce-Id), which HTTP ignores.
		h[textproto.CanonicalMIMEHeaderKey("ce-"+name)] = []string{percentEncode(s)}
	}
	h.Set("Content-Type", ct)
	data := members["data"]
	if len(data) == 0 || string(data) == "null" {
		return nil, nil
	}
	return data, nil
}

// attributeName reports whether s is a valid CloudEvents attribute name:
// lower-case ASCII letters and digits.
func attributeName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// attributeValue returns the canonical string form of a JSON attribute
// value; false for null, objects and arrays, which are not attributes.
func attributeValue(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", false
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false
		}
		return s, true
	case 't', 'f', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if string(v) == "null" {
			return "", false
		}
		return string(v), true
	}
	return "", false
}

// percentEncode encodes s as the CloudEvents HTTP binding requires of
// header values: space, '"', '%' and every byte outside printable ASCII
// become %XX (UTF-8 bytes, upper-case hex).
func percentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if mustEncode(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if mustEncode(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

func mustEncode(c byte) bool { return c <= ' ' || c >= 0x7f || c == '"' || c == '%' }
