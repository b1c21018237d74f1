package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client talks to a running forgehook's admin API.
type Client struct {
	// BaseURL is the admin listener, e.g. http://127.0.0.1:8081.
	BaseURL string
	// Token is the admin bearer token, if one is set.
	Token string
	// HTTP is the client to use (default http.DefaultClient).
	HTTP *http.Client
}

// ListQuery selects events for ListEvents.
type ListQuery struct {
	Endpoint, Forge, Kind, Repository string
	// Action, Ref, Branch, Actor, Delivery, Outcome, Since and Until are
	// the other filters of GET /api/v1/events (docs/operations.md); Since
	// and Until are RFC 3339 times.
	Action, Ref, Branch, Actor, Delivery, Outcome, Since, Until string
	Limit                                                       int
	Before                                                      string
}

// ListEvents returns a page of events, newest first.
func (c *Client) ListEvents(ctx context.Context, q ListQuery) (*EventList, error) {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("endpoint", q.Endpoint)
	set("forge", q.Forge)
	set("kind", q.Kind)
	set("repository", q.Repository)
	set("action", q.Action)
	set("ref", q.Ref)
	set("branch", q.Branch)
	set("actor", q.Actor)
	set("delivery", q.Delivery)
	set("outcome", q.Outcome)
	set("since", q.Since)
	set("until", q.Until)
	set("before", q.Before)
	if q.Limit > 0 {
		v.Set("limit", fmt.Sprint(q.Limit))
	}
	var out EventList
	if err := c.get(ctx, "/api/v1/events?"+v.Encode(), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Facets returns the counts of the events stored in the last hour and the
// last day (GET /api/v1/facets).
func (c *Client) Facets(ctx context.Context) (*FacetList, error) {
	var out FacetList
	if err := c.get(ctx, "/api/v1/facets", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetEvent returns one event.
func (c *Client) GetEvent(ctx context.Context, id string) (*EventDetail, error) {
	var out EventDetail
	if err := c.get(ctx, "/api/v1/events/"+url.PathEscape(id), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StatusError is a non-2xx answer from the API.
type StatusError struct {
	Status  int
	Message string
}

func (e *StatusError) Error() string { return fmt.Sprintf("api: %d: %s", e.Status, e.Message) }

// ReplayEvent re-drives a stored event (see ReplayRequest).
func (c *Client) ReplayEvent(ctx context.Context, id string, req ReplayRequest) (*ReplayResult, error) {
	var out ReplayResult
	return &out, c.do(ctx, http.MethodPost, "/api/v1/events/"+url.PathEscape(id)+"/replay", req, &out)
}

// ReplayRange re-drives the events stored between req.Since and req.Until.
func (c *Client) ReplayRange(ctx context.Context, req ReplayRequest) (*ReplayResult, error) {
	var out ReplayResult
	return &out, c.do(ctx, http.MethodPost, "/api/v1/replay", req, &out)
}

// ListDead returns a page of dead letters, newest first.
func (c *Client) ListDead(ctx context.Context, trigger, before string, limit int) (*DeadList, error) {
	v := url.Values{}
	if trigger != "" {
		v.Set("trigger", trigger)
	}
	if before != "" {
		v.Set("before", before)
	}
	if limit > 0 {
		v.Set("limit", fmt.Sprint(limit))
	}
	var out DeadList
	return &out, c.get(ctx, "/api/v1/dead?"+v.Encode(), &out)
}

// ReplayDead re-drives a dead letter through its trigger and removes it.
func (c *Client) ReplayDead(ctx context.Context, seq string, dryRun bool) (*ReplayResult, error) {
	var out ReplayResult
	return &out, c.do(ctx, http.MethodPost, "/api/v1/dead/"+url.PathEscape(seq)+"/replay", ReplayRequest{DryRun: dryRun}, &out)
}

// Triggers lists the configured triggers.
func (c *Client) Triggers(ctx context.Context) ([]TriggerInfo, error) {
	var out struct {
		Triggers []TriggerInfo `json:"triggers"`
	}
	return out.Triggers, c.get(ctx, "/api/v1/triggers", &out)
}

func (c *Client) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, out)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("api: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	if in != nil || method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("api: read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e Error
		_ = json.Unmarshal(answer, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(answer))
		}
		return &StatusError{Status: resp.StatusCode, Message: e.Error}
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("api: decode answer: %w", err)
	}
	return nil
}
