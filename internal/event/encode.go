package event

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Encode returns the record's CloudEvents JSON with data.body written as the
// exact bytes received (json.Marshal would compact it and escape <, > and &).
// Data.Body must be valid JSON.
func (e *Event) Encode() ([]byte, error) {
	env := *e
	env.Data = Data{}
	head, err := marshalNoEscape(struct {
		envelope
	}{envelope(env)})
	if err != nil {
		return nil, fmt.Errorf("event: encode envelope: %w", err)
	}
	hdr, err := marshalNoEscape(e.Data.Header)
	if err != nil {
		return nil, fmt.Errorf("event: encode header: %w", err)
	}
	norm, err := marshalNoEscape(e.Data.Normalized)
	if err != nil {
		return nil, fmt.Errorf("event: encode normalized: %w", err)
	}
	body := e.Data.Body
	if len(body) == 0 {
		body = json.RawMessage("null")
	}
	// head ends with the "data" member's empty object: replace it.
	cut := bytes.LastIndex(head, []byte(`"data":`))
	if cut < 0 {
		return nil, fmt.Errorf("event: encode: no data member")
	}
	var b bytes.Buffer
	b.Grow(len(head) + len(hdr) + len(body) + len(norm) + 64)
	b.Write(head[:cut])
	b.WriteString(`"data":{"header":`)
	b.Write(hdr)
	b.WriteString(`,"body":`)
	b.Write(body)
	b.WriteString(`,"normalized":`)
	b.Write(norm)
	b.WriteString(`}}`)
	return b.Bytes(), nil
}

// envelope has Event's fields with its data emptied; it lets Encode
// marshal the attributes in their declared order.
type envelope Event

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
