package hookhttp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ParseLink parses an RFC 8288 Link header value into its relations: each
// rel name (lower case; a rel attribute may list several) maps to the
// first target URL given for it. Malformed links are skipped.
func ParseLink(v string) map[string]string {
	out := map[string]string{}
	for len(v) > 0 {
		v = strings.TrimLeft(v, " \t,")
		if v == "" || v[0] != '<' {
			// skip to the next link
			i := strings.IndexByte(v, ',')
			if i < 0 {
				break
			}
			v = v[i+1:]
			continue
		}
		end := strings.IndexByte(v, '>')
		if end < 0 {
			break
		}
		target := v[1:end]
		v = v[end+1:]
		// parameters up to the next comma outside quotes
		params, rest := splitParams(v)
		v = rest
		for _, p := range params {
			k, val, ok := strings.Cut(p, "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
				continue
			}
			val = strings.Trim(strings.TrimSpace(val), `"`)
			for _, rel := range strings.Fields(strings.ToLower(val)) {
				if _, seen := out[rel]; !seen {
					out[rel] = target
				}
			}
		}
	}
	return out
}

// splitParams reads ";"-separated parameters up to a comma outside quotes
// and returns them and the rest after that comma.
func splitParams(v string) ([]string, string) {
	var params []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(v); i++ {
		ch := v[i]
		switch {
		case ch == '"':
			quoted = !quoted
			cur.WriteByte(ch)
		case ch == ';' && !quoted:
			if s := strings.TrimSpace(cur.String()); s != "" {
				params = append(params, s)
			}
			cur.Reset()
		case ch == ',' && !quoted:
			if s := strings.TrimSpace(cur.String()); s != "" {
				params = append(params, s)
			}
			return params, v[i+1:]
		default:
			cur.WriteByte(ch)
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		params = append(params, s)
	}
	return params, ""
}

// NextLink returns the rel="next" target of the Link header, if any.
func NextLink(h http.Header) (string, bool) {
	var next string
	for _, v := range h.Values("Link") {
		if n, ok := ParseLink(v)["next"]; ok {
			next = n
			break
		}
	}
	return next, next != ""
}

// hasLink reports whether the answer carries any Link header.
func hasLink(h http.Header) bool { return len(h.Values("Link")) > 0 }

// ListLink reads every page of a JSON-array list by following the
// rel="next" Link of each answer (GitHub). The first call carries
// call.Query (e.g. per_page=100); the next URLs are used as given after the
// origin check. At most DefaultMaxPages pages are read.
func ListLink[T any](ctx context.Context, c *Client, call Call) ([]T, error) {
	var all []T
	for page := 1; ; page++ {
		if page > DefaultMaxPages {
			return nil, fmt.Errorf("%s: %s: more than %d pages", c.forge, call.Op, DefaultMaxPages)
		}
		var items []T
		call.Out = &items
		resp, err := c.Do(ctx, call)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		next, ok := NextLink(resp.Header)
		if !ok {
			return all, nil
		}
		call.Path, call.Query = next, nil
	}
}

// Pages describes page-number paging.
type Pages struct {
	// Page and Size are the query parameter names ("page", "per_page").
	Page, Size string
	// PerPage is the page size asked for.
	PerPage int
}

// ListPages reads every page of a JSON-array list by page number (GitLab,
// Gitea, Gitee, Harbor). After each page it decides whether another follows
// from, in order: X-Next-Page (GitLab; empty means last), a Link header
// (rel="next" or not), X-Total-Pages / total_page, X-Total-Count /
// total_count, and finally a page shorter than PerPage. At most
// DefaultMaxPages pages are read.
func ListPages[T any](ctx context.Context, c *Client, call Call, p Pages) ([]T, error) {
	var all []T
	base := url.Values{}
	for k, v := range call.Query {
		base[k] = v
	}
	for page := 1; ; page++ {
		if page > DefaultMaxPages {
			return nil, fmt.Errorf("%s: %s: more than %d pages", c.forge, call.Op, DefaultMaxPages)
		}
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set(p.Page, strconv.Itoa(page))
		q.Set(p.Size, strconv.Itoa(p.PerPage))
		var items []T
		call.Query, call.Out = q, &items
		resp, err := c.Do(ctx, call)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if !MorePages(resp.Header, page, len(all), len(items), p.PerPage) {
			return all, nil
		}
	}
}

// MorePages decides, from the answer's headers, whether a page follows
// page (1-based), given the items read so far (seen) and on this page (n).
// An empty page always ends the list.
func MorePages(h http.Header, page, seen, n, perPage int) bool {
	if n == 0 {
		return false
	}
	if vs, ok := h["X-Next-Page"]; ok {
		v := ""
		if len(vs) > 0 {
			v = strings.TrimSpace(vs[0])
		}
		next, err := strconv.Atoi(v)
		return err == nil && next > page
	}
	if hasLink(h) {
		_, ok := NextLink(h)
		return ok
	}
	for _, k := range []string{"X-Total-Pages", "Total_page", "Total-Page"} {
		if v := strings.TrimSpace(h.Get(k)); v != "" {
			if total, err := strconv.Atoi(v); err == nil && total >= 0 {
				return page < total
			}
		}
	}
	for _, k := range []string{"X-Total-Count", "X-Total", "Total_count", "Total-Count"} {
		if v := strings.TrimSpace(h.Get(k)); v != "" {
			if total, err := strconv.Atoi(v); err == nil && total >= 0 {
				return seen < total
			}
		}
	}
	return n >= perPage
}
