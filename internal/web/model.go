package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/forgehook/forgehook/internal/api"
	"github.com/forgehook/forgehook/internal/deliver"
	"github.com/forgehook/forgehook/internal/event"
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
		Merged bool   `json:"merged"`
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
	// Summary is the event in one forge-neutral line (event.Summary).
	Summary string
	// Short is the new head's short commit id, when there is one.
	Short string
	// Actor is who did it.
	Actor string
	// Status is the event's overall delivery state (see overall).
	Status   string
	Triggers []deliver.Status
}

// parseRecord decodes what the pages show of a record, each text cut to
// maxTextShown; the body is left out (whatever its size and depth, it
// costs one scan).
func parseRecord(rec store.Record) (recordFields, bool) {
	var f recordFields
	if err := json.Unmarshal(api.StripBody(rec.Data), &f); err != nil {
		return f, false
	}
	n := &f.Data.Normalized
	for _, p := range []*string{&f.ID, &f.Source, &f.Type, &f.Subject, &f.Endpoint, &f.Forge, &f.ForgeEvent,
		&f.ForgeAction, &f.Delivery, &n.Kind, &n.Action, &n.Forge, &n.Ref, &n.Branch, &n.Tag, &n.Before, &n.After,
		&n.Repository.FullName, &n.Repository.URL, &n.Actor.Login, &n.Actor.Name} {
		*p = excerpt(*p, maxTextShown)
	}
	if pr := n.PullRequest; pr != nil {
		pr.Title, pr.State, pr.URL = excerpt(pr.Title, maxTextShown), excerpt(pr.State, maxTextShown), excerpt(pr.URL, maxTextShown)
	}
	return f, true
}

func newRow(rec store.Record, f recordFields) row {
	n := f.Data.Normalized
	ref := n.Ref
	if ref == "" {
		ref = f.Subject
	}
	ef := n.fields(f.ForgeAction)
	r := row{
		ID: f.ID, Seq: rec.Seq, Time: f.Time, Stored: rec.Stored, Endpoint: f.Endpoint,
		Forge: f.Forge, ForgeEvent: f.ForgeEvent, Kind: n.Kind, Action: n.Action,
		Repository: n.Repository.FullName, Ref: ref, Subject: f.Subject,
		Summary: event.Summary(&ef), Actor: cmp.Or(n.Actor.Login, n.Actor.Name),
	}
	if n.After != "" && !event.IsZeroSHA(n.After) {
		r.Short = n.After[:min(7, len(n.After))]
	}
	return r
}

// fields returns the normalized fields a summary reads: the commits are
// decoded for their id and message only.
func (n *normalized) fields(forgeAction string) event.Fields {
	f := event.Fields{
		Kind: event.Kind(n.Kind), Action: n.Action, Forge: n.Forge, Ref: n.Ref, Branch: n.Branch, Tag: n.Tag,
		Before: n.Before, After: n.After, Deleted: n.Deleted, ForgeAction: forgeAction,
		Actor: event.Person{Login: n.Actor.Login, Name: n.Actor.Name},
	}
	if pr := n.PullRequest; pr != nil {
		f.PullRequest = event.PullRequest{Number: int64(pr.Number), Title: pr.Title, State: pr.State, Merged: pr.Merged}
	}
	if len(n.Commits) > 0 {
		f.Commits = make([]event.Commit, len(n.Commits))
		for i, raw := range n.Commits {
			var c struct {
				ID      string `json:"id"`
				Message string `json:"message"`
			}
			if json.Unmarshal(raw, &c) == nil {
				f.Commits[i] = event.Commit{ID: c.ID, Message: excerpt(c.Message, maxTextShown)}
			}
		}
	}
	return f
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
	// HeadersCut reports that headers were left out (maxHeadersShown).
	HeadersCut bool
	// HasBody reports whether the record holds a body (to download).
	HasBody bool
	Body    string
	// BodySize is the stored body's size in bytes.
	BodySize int
	// BodyNote, when set, says why the body is shown as stored text
	// rather than indented.
	BodyNote string
	// Truncated reports that only the start of the body is shown.
	Truncated  bool
	Normalized string
	Extra      []attribute // other members of data, pretty-printed
}

// Bounds of the detail page, in bytes of text before HTML escaping (which
// at worst multiplies text by five, for a body of quotes): whatever the
// stored event, the page stays under 2 MiB.
const (
	maxBodyShown    = 128 << 10 // the body
	maxValueShown   = 16 << 10  // data.normalized, and the other data members together
	maxHeadersShown = 32 << 10  // every header name and value together
	maxTextShown    = 1 << 10   // one attribute, header value or summary field
	maxAttributes   = 64        // CloudEvent attributes listed
)

func decodeDetail(raw []byte) detail {
	var d detail
	body, hasBody := api.BodyOf(raw)
	d.HasBody, d.BodySize = hasBody, len(body)
	if !hasBody {
		// Not a record forgehook wrote: show it as the body.
		body, d.BodySize = raw, len(raw)
	}
	d.Body, d.Truncated, d.BodyNote = show(body, maxBodyShown)
	var top map[string]json.RawMessage
	if err := json.Unmarshal(api.StripBody(raw), &top); err != nil {
		return d
	}
	seen := map[string]bool{"data": true}
	for _, k := range coreAttributes() {
		if v, ok := top[k]; ok {
			d.Attributes = append(d.Attributes, attribute{k, excerpt(scalar(v), maxTextShown)})
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
		if len(d.Attributes) == maxAttributes {
			break
		}
		d.Attributes = append(d.Attributes, attribute{excerpt(k, maxTextShown), excerpt(scalar(top[k]), maxTextShown)})
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
	budget := maxHeadersShown
headers:
	for _, k := range names {
		for _, v := range hdr[k] {
			a := attribute{excerpt(k, maxTextShown), excerpt(v, maxTextShown)}
			if budget -= len(a.Name) + len(a.Value); budget < 0 {
				d.HeadersCut = true
				break headers
			}
			d.Headers = append(d.Headers, a)
		}
	}
	d.Normalized, _, _ = show(data["normalized"], maxValueShown)
	var extra []string
	for k := range data {
		if k != "header" && k != "body" && k != "normalized" {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	budget = maxValueShown
	for _, k := range extra {
		if budget <= 0 {
			break
		}
		v, _, _ := show(data[k], budget)
		budget -= len(v) + len(k)
		d.Extra = append(d.Extra, attribute{excerpt(k, maxTextShown), v})
	}
	return d
}

// scalar shows a JSON value: a string unquoted, anything else as JSON.
func scalar(v json.RawMessage) string {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s
	}
	return strings.ToValidUTF8(string(v), "\uFFFD")
}

// show renders a stored JSON value as text of at most max bytes (plus a
// final "…" when cut): indented when that fits, else compact and cut;
// a value that is not JSON, or nests deeper than api.MaxBodyDepth, is
// shown as its stored text, cut. Bytes that are not UTF-8 become U+FFFD.
// It reports whether the text was cut, and why it is not indented.
func show(v []byte, max int) (text string, cut bool, note string) {
	if len(v) == 0 {
		return "", false, ""
	}
	out, err := api.AppendJSON(nil, v, api.Render{Indent: "  ", MaxOut: max, MaxDepth: api.MaxBodyDepth})
	if err == nil {
		return string(out), false, ""
	}
	if errors.Is(err, api.ErrTooLarge) {
		out, err = api.AppendJSON(nil, v, api.Render{MaxDepth: api.MaxBodyDepth})
		note = "too large to indent: shown compact"
	}
	switch {
	case errors.Is(err, api.ErrTooDeep):
		note = fmt.Sprintf("nested deeper than %d levels: shown as stored", api.MaxBodyDepth)
	case err != nil:
		note = "not valid JSON: shown as stored"
	}
	if err != nil {
		// Cut first: the conversion then costs at most max bytes.
		out = v[:min(len(v), max+utf8.UTFMax)]
		cut = len(out) < len(v)
	}
	s := strings.ToValidUTF8(string(out), "\uFFFD")
	if len(s) > max {
		return excerpt(s, max), true, note
	}
	return s, cut, note
}
