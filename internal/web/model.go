package web

import (
	"bytes"
	"encoding/json"
	"sort"
	"time"

	"github.com/forgehook/forgehook/internal/deliver"
	"github.com/forgehook/forgehook/internal/store"
)

// recordFields is the part of a stored event (the CloudEvent JSON) that
// the list and the detail page show.
type recordFields struct {
	ID          string    `json:"id"`
	Source      string    `json:"source"`
	Type        string    `json:"type"`
	Subject     string    `json:"subject"`
	Time        time.Time `json:"time"`
	Endpoint    string    `json:"endpoint"`
	Forge       string    `json:"forge"`
	ForgeEvent  string    `json:"forgeevent"`
	ForgeAction string    `json:"forgeaction"`
	Delivery    string    `json:"forgedelivery"`
	Data        struct {
		Normalized normalized `json:"normalized"`
	} `json:"data"`
}

// normalized is the part of data.normalized the UI summarizes.
type normalized struct {
	Kind       string `json:"kind"`
	Action     string `json:"action"`
	Forge      string `json:"forge"`
	Ref        string `json:"ref"`
	Branch     string `json:"branch"`
	Tag        string `json:"tag"`
	Before     string `json:"before"`
	After      string `json:"after"`
	Deleted    bool   `json:"deleted"`
	Repository struct {
		FullName string `json:"full_name"`
		URL      string `json:"url"`
	} `json:"repository"`
	Commits     []json.RawMessage `json:"commits"`
	PullRequest *struct {
		Number int    `json:"number"`
		Title  string `json:"title"`
		State  string `json:"state"`
		URL    string `json:"url"`
	} `json:"pull_request"`
	Actor struct {
		Login string `json:"login"`
		Name  string `json:"name"`
	} `json:"actor"`
}

// row is one line of the events list.
type row struct {
	ID         string
	Seq        uint64
	Time       time.Time
	Stored     time.Time
	Endpoint   string
	Forge      string
	ForgeEvent string
	Kind       string
	Action     string
	Repository string
	Ref        string
	Subject    string
	// Status is the event's overall delivery state (see overall).
	Status   string
	Triggers []deliver.Status
}

func parseRecord(rec store.Record) (recordFields, bool) {
	var f recordFields
	if err := json.Unmarshal(rec.Data, &f); err != nil {
		return f, false
	}
	return f, true
}

func newRow(rec store.Record, f recordFields) row {
	n := f.Data.Normalized
	ref := n.Ref
	if ref == "" {
		ref = f.Subject
	}
	return row{
		ID: f.ID, Seq: rec.Seq, Time: f.Time, Stored: rec.Stored, Endpoint: f.Endpoint,
		Forge: f.Forge, ForgeEvent: f.ForgeEvent, Kind: n.Kind, Action: n.Action,
		Repository: n.Repository.FullName, Ref: ref, Subject: f.Subject,
	}
}

// The overall states of an event, worst first. The per-trigger states are
// deliver.Status.State's.
const (
	stateDead         = "dead"
	stateRetrying     = "retrying"
	statePending      = "pending"
	stateDelivered    = "delivered"
	stateSuperseded   = "superseded"
	stateNotDelivered = "not_delivered"
	stateNotMatched   = "not_matched"
	stateStored       = "stored" // no trigger is configured
)

// statusOptions returns the states the events list filters by.
func statusOptions() []string {
	return []string{stateDelivered, stateRetrying, stateDead, statePending, stateNotMatched, stateNotDelivered, stateStored}
}

// overall sums up an event's states on every trigger: the worst one that
// matters to an operator.
func overall(st []deliver.Status) string {
	if len(st) == 0 {
		return stateStored
	}
	have := map[string]bool{}
	for _, s := range st {
		have[s.State] = true
	}
	for _, s := range []string{stateDead, stateRetrying, statePending, stateDelivered, stateSuperseded, stateNotDelivered} {
		if have[s] {
			return s
		}
	}
	return stateNotMatched
}

// attribute is one CloudEvent attribute of the detail page.
type attribute struct {
	Name, Value string
}

// coreAttributes returns the CloudEvent attributes shown first, in this
// order; extensions follow by name.
func coreAttributes() []string {
	return []string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype"}
}

// detail is the decoded record of the detail page.
type detail struct {
	Attributes []attribute
	Headers    []attribute
	Body       string
	BodySize   int
	Truncated  bool
	Normalized string
	Extra      []attribute // other members of data, pretty-printed
}

// maxBodyShown bounds the pretty-printed body on the detail page.
const maxBodyShown = 512 << 10

func decodeDetail(raw []byte) detail {
	var d detail
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		d.Body, d.BodySize = pretty(raw), len(raw)
		return d
	}
	seen := map[string]bool{"data": true}
	for _, k := range coreAttributes() {
		if v, ok := top[k]; ok {
			d.Attributes = append(d.Attributes, attribute{k, scalar(v)})
			seen[k] = true
		}
	}
	var rest []string
	for k := range top {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		d.Attributes = append(d.Attributes, attribute{k, scalar(top[k])})
	}
	var data map[string]json.RawMessage
	_ = json.Unmarshal(top["data"], &data)
	var hdr map[string][]string
	_ = json.Unmarshal(data["header"], &hdr)
	names := make([]string, 0, len(hdr))
	for k := range hdr {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range hdr[k] {
			d.Headers = append(d.Headers, attribute{k, v})
		}
	}
	body := data["body"]
	d.BodySize = len(body)
	if len(body) > maxBodyShown {
		body, d.Truncated = body[:maxBodyShown], true
		d.Body = string(body)
	} else {
		d.Body = pretty(body)
	}
	d.Normalized = pretty(data["normalized"])
	var extra []string
	for k := range data {
		if k != "header" && k != "body" && k != "normalized" {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		d.Extra = append(d.Extra, attribute{k, pretty(data[k])})
	}
	return d
}

// scalar shows a JSON value: a string unquoted, anything else as JSON.
func scalar(v json.RawMessage) string {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s
	}
	return string(v)
}

// pretty indents JSON; anything else is returned as is.
func pretty(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, v, "", "  "); err != nil {
		return string(v)
	}
	return b.String()
}
