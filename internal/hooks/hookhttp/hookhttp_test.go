package hookhttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
	"github.com/forgehook/forgehook/internal/hooks/hooktest"
)

func TestHooksHTTPParseLink(t *testing.T) {
	for _, c := range []struct {
		in   string
		want map[string]string
	}{
		{`<https://api.github.com/repositories/1/hooks?page=2>; rel="next", <https://api.github.com/repositories/1/hooks?page=5>; rel="last"`,
			map[string]string{"next": "https://api.github.com/repositories/1/hooks?page=2", "last": "https://api.github.com/repositories/1/hooks?page=5"}},
		{`<a>; rel="prev next"; title="x,y", <b>; rel=first`, map[string]string{"prev": "a", "next": "a", "first": "b"}},
		{`garbage, <c>; REL="Next"`, map[string]string{"next": "c"}},
		{`<d>; rel="next", <e>; rel="next"`, map[string]string{"next": "d"}},
		{`<unterminated; rel="next"`, map[string]string{}},
		{``, map[string]string{}},
	} {
		got := hookhttp.ParseLink(c.in)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("ParseLink(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestHooksHTTPMorePages(t *testing.T) {
	h := func(kv ...string) http.Header {
		x := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			x.Set(kv[i], kv[i+1])
		}
		return x
	}
	for i, c := range []struct {
		h                  http.Header
		page, seen, n, per int
		want               bool
	}{
		{h("X-Next-Page", "2", "X-Total-Pages", "1"), 1, 20, 20, 20, true}, // X-Next-Page wins
		{h("X-Next-Page", ""), 1, 20, 20, 20, false},
		{h("Link", `<x>; rel="last"`), 1, 20, 20, 20, false},
		{h("Link", `<x>; rel="next"`), 1, 1, 1, 20, true},
		{h("X-Total-Pages", "3"), 2, 40, 20, 20, true},
		{h("X-Total-Pages", "3"), 3, 60, 20, 20, false},
		{h("total_page", "2"), 2, 40, 20, 20, false},
		{h("X-Total-Count", "103"), 2, 100, 50, 50, true},
		{h("X-Total-Count", "103"), 3, 103, 3, 50, false},
		{h(), 1, 50, 50, 50, true},
		{h(), 2, 53, 3, 50, false},
		{h("X-Total-Pages", "9"), 1, 0, 0, 20, false}, // an empty page ends the list
	} {
		if got := hookhttp.MorePages(c.h, c.page, c.seen, c.n, c.per); got != c.want {
			t.Errorf("case %d: MorePages = %v, want %v", i, got, c.want)
		}
	}
}

func TestHooksHTTPRateLimitWait(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	h := func(kv ...string) http.Header {
		x := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			x.Set(kv[i], kv[i+1])
		}
		return x
	}
	for i, c := range []struct {
		status  int
		h       http.Header
		wait    time.Duration
		limited bool
	}{
		{429, h("Retry-After", "7"), 7 * time.Second, true},
		{429, h("Retry-After", now.Add(30*time.Second).UTC().Format(http.TimeFormat)), 30 * time.Second, true},
		{429, h(), time.Minute, true},
		{403, h("x-ratelimit-remaining", "0", "x-ratelimit-reset", "1800000060"), time.Minute, true}, // GitHub primary
		{403, h("Retry-After", "60"), time.Minute, true},                                             // GitHub secondary
		{403, h("x-ratelimit-remaining", "12"), 0, false},                                            // a real 403
		{403, h(), 0, false},
		{429, h("RateLimit-Remaining", "0", "RateLimit-Reset", "1800000010"), 10 * time.Second, true}, // GitLab
		{429, h("RateLimit-Reset", "5"), 5 * time.Second, true},                                       // a delta
		{503, h("Retry-After", "2"), 2 * time.Second, true},
		{503, h(), 0, false},
		{200, h("Retry-After", "2"), 0, false},
		{429, h("Retry-After", "-1"), time.Minute, true},
	} {
		wait, limited := hookhttp.RateLimitWait(c.status, c.h, now)
		if wait != c.wait || limited != c.limited {
			t.Errorf("case %d: RateLimitWait = %s, %v; want %s, %v", i, wait, limited, c.wait, c.limited)
		}
	}
}

func TestHooksHTTPMessage(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"message":"Not Found","documentation_url":"x"}`, "Not Found"},
		{`{"message":{"url":["is blocked"]}}`, `{"url":["is blocked"]}`},
		{`{"error":{"message":"Bad request","detail":"x"}}`, "Bad request"},
		{`{"errors":[{"context":null,"message":"Invalid URL","exceptionName":"x"}]}`, "Invalid URL"},
		{`{"errors":[{"code":"NOT_FOUND","message":"project not found"}]}`, "project not found"},
		{`{"message":"Validation Failed","errors":[{"resource":"Hook","code":"custom","message":"Hook already exists on this repository"}],"status":"422"}`,
			"Validation Failed: Hook already exists on this repository"},
		{`<html><body>gateway</body></html>`, ""},
		{"plain\ntext", "plain text"},
		{strings.Repeat("é", 400), strings.Repeat("é", 150) + "..."},
	} {
		if got := hookhttp.Message([]byte(c.in)); got != c.want {
			t.Errorf("Message(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestHooksHTTPOrigin checks that a next link to another host is refused
// and the token is never sent there.
func TestHooksHTTPOrigin(t *testing.T) {
	other := hooktest.New(t)
	other.Handle("GET /steal", func(w http.ResponseWriter, r *http.Request) { hooktest.JSON(w, 200, []int{1}) })
	s := hooktest.New(t)
	s.Handle("GET /api/items", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "<"+other.URL+"/steal>; rel=\"next\"")
		hooktest.JSON(w, 200, []int{1})
	})
	c, err := hookhttp.New(hookhttp.Config{Forge: "test", Base: s.URL + "/api", Auth: hookhttp.TokenAuth("Bearer", "tok")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = hookhttp.ListLink[int](t.Context(), c, hookhttp.Call{Op: "list", Method: "GET", Path: "/items"})
	if !errors.Is(err, hookhttp.ErrOrigin) {
		t.Errorf("err = %v, want ErrOrigin", err)
	}
	if n := len(other.Requests()); n != 0 {
		t.Errorf("%d requests reached the other host", n)
	}
	base, _ := url.Parse("https://h.example/api")
	for u, want := range map[string]bool{
		"https://h.example/api/x": true, "https://H.EXAMPLE/api": true, "https://h.example/apix": false,
		"http://h.example/api/x": false, "https://h.example.evil/api/x": false, "https://u@h.example/api/x": false,
	} {
		pu, _ := url.Parse(u)
		if got := hookhttp.SameOrigin(base, pu); got != want {
			t.Errorf("SameOrigin(%s) = %v, want %v", u, got, want)
		}
	}
}

// TestHooksHTTPTransportErrorHidesQuery checks that a token in the query
// (Gitee's access_token) does not reach the error of a failed connection.
func TestHooksHTTPTransportErrorHidesQuery(t *testing.T) {
	s := hooktest.New(t)
	s.Close()
	c, err := hookhttp.New(hookhttp.Config{Forge: "gitee", Base: s.URL, Auth: hookhttp.SetQueryAuth("access_token", "tok-xyz")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(t.Context(), hookhttp.Call{Op: "list", Method: "GET", Path: "/x", Query: url.Values{"page": {"1"}}})
	if err == nil || strings.Contains(err.Error(), "tok-xyz") || strings.Contains(err.Error(), s.URL) {
		t.Errorf("err = %v: want an error without the URL or token", err)
	}
}

func TestHooksHTTPBoundedBody(t *testing.T) {
	s := hooktest.New(t)
	s.Handle("GET /big", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(strings.Repeat("x", 2000))) })
	c, _ := hookhttp.New(hookhttp.Config{Forge: "test", Base: s.URL, MaxBody: 1000})
	if _, err := c.Do(t.Context(), hookhttp.Call{Op: "big", Method: "GET", Path: "/big"}); err == nil || !strings.Contains(err.Error(), "larger than 1000") {
		t.Errorf("err = %v, want a size error", err)
	}
}

// TestHooksHTTPWaits checks the rate-limit waits with a fake sleep: the
// reset time of an exhausted answer gates the next call, and the retry
// count is bounded.
func TestHooksHTTPWaits(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var slept []time.Duration
	s := hooktest.New(t)
	calls := 0
	s.Handle("GET /x", func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "1800000042")
		hooktest.JSON(w, 200, map[string]int{"n": calls})
	})
	s.Handle("GET /limited", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		hooktest.JSON(w, 429, map[string]string{"message": "slow down"})
	})
	c, _ := hookhttp.New(hookhttp.Config{Forge: "test", Base: s.URL, Now: func() time.Time { return now },
		Sleep: func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }})
	if _, err := c.Do(t.Context(), hookhttp.Call{Op: "x", Method: "GET", Path: "/x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(t.Context(), hookhttp.Call{Op: "x", Method: "GET", Path: "/x"}); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 1 || slept[0] != 42*time.Second {
		t.Errorf("slept %v, want [42s] before the second call", slept)
	}
	slept = nil
	c2, _ := hookhttp.New(hookhttp.Config{Forge: "test", Base: s.URL, Now: func() time.Time { return now }, Retries: 2,
		Sleep: func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }})
	_, err := c2.Do(t.Context(), hookhttp.Call{Op: "limited", Method: "GET", Path: "/limited"})
	if !errors.Is(err, hookhttp.ErrRateLimited) {
		t.Errorf("err = %v, want ErrRateLimited", err)
	}
	if len(slept) != 2 || slept[0] != 3*time.Second {
		t.Errorf("slept %v, want two 3s waits", slept)
	}
	// A wait beyond MaxWait fails without sleeping.
	slept = nil
	c3, _ := hookhttp.New(hookhttp.Config{Forge: "test", Base: s.URL, Now: func() time.Time { return now }, MaxWait: time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }})
	if _, err := c3.Do(t.Context(), hookhttp.Call{Op: "limited", Method: "GET", Path: "/limited"}); !errors.Is(err, hookhttp.ErrRateLimited) || len(slept) != 0 {
		t.Errorf("err = %v, slept %v: want ErrRateLimited at once", err, slept)
	}
}

func TestHooksHTTPNewRejects(t *testing.T) {
	for _, b := range []string{"", "gitea.example.com", "ftp://x", "https://u:p@x/api", "https://x/api?token=1"} {
		if _, err := hookhttp.New(hookhttp.Config{Forge: "t", Base: b}); err == nil {
			t.Errorf("base %q accepted", b)
		} else if strings.Contains(err.Error(), "u:p") {
			t.Errorf("error shows the user info: %v", err)
		}
	}
}

func FuzzParseLink(f *testing.F) {
	for _, s := range []string{`<https://x/a?page=2>; rel="next", <https://x/a?page=9>; rel="last"`, `<a>; rel="prev next"; t="x,y"`, `<`, `,,<>;rel=`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for rel, target := range hookhttp.ParseLink(v) {
			if rel == "" || rel != strings.ToLower(rel) || strings.ContainsAny(rel, " \t") {
				t.Fatalf("rel %q from %q", rel, v)
			}
			if !strings.Contains(v, "<"+target+">") {
				t.Fatalf("target %q is not a <...> of %q", target, v)
			}
		}
	})
}

func FuzzRateLimitWait(f *testing.F) {
	f.Add(429, "7", "", "")
	f.Add(403, "", "0", "1800000060")
	f.Add(503, "Wed, 21 Oct 2015 07:28:00 GMT", "", "")
	f.Add(200, "1", "0", "99999999999999999999")
	f.Fuzz(func(t *testing.T, status int, ra, rem, reset string) {
		h := http.Header{}
		h.Set("Retry-After", ra)
		h.Set("X-RateLimit-Remaining", rem)
		h.Set("X-RateLimit-Reset", reset)
		now := time.Unix(1_800_000_000, 0)
		wait, limited := hookhttp.RateLimitWait(status, h, now)
		if wait < 0 {
			t.Fatalf("negative wait %s", wait)
		}
		if limited && status != 429 && status != 403 && status != 503 {
			t.Fatalf("status %d limited", status)
		}
		if !limited && (wait != 0 || status == 429) {
			t.Fatalf("status %d: not limited with wait %s", status, wait)
		}
		if until, ok := hookhttp.Exhausted(h, now); ok && until.IsZero() {
			t.Fatal("exhausted without a reset time")
		}
	})
}

func FuzzMessage(f *testing.F) {
	for _, s := range []string{`{"message":"x"}`, `{"errors":[{"message":"y"}]}`, `{"error":{"message":"z"}}`, "<html>", "a\x00\xffb", `{"message":123}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := hookhttp.Message(b)
		if len(m) > 303 || !utf8.ValidString(m) || strings.ContainsAny(m, "\n\r\t") {
			t.Fatalf("Message(%q) = %q", b, m)
		}
	})
}

func FuzzMorePages(f *testing.F) {
	f.Add("2", "", "", "", 1, 20, 20, 20)
	f.Add("", `<x>; rel="next"`, "", "", 1, 1, 1, 20)
	f.Add("", "", "3", "103", 2, 100, 50, 50)
	f.Fuzz(func(t *testing.T, next, link, pages, count string, page, seen, n, per int) {
		h := http.Header{}
		if next != "" {
			h.Set("X-Next-Page", next)
		}
		if link != "" {
			h.Set("Link", link)
		}
		if pages != "" {
			h.Set("X-Total-Pages", pages)
		}
		if count != "" {
			h.Set("X-Total-Count", count)
		}
		if hookhttp.MorePages(h, page, seen, n, per) && n == 0 {
			t.Fatal("an empty page did not end the list")
		}
	})
}

// TestHooksHTTPSignInPage checks that an HTML page where JSON was expected
// (a login page after a redirect, Azure DevOps' 203) is a permission error.
func TestHooksHTTPSignInPage(t *testing.T) {
	s := hooktest.New(t)
	s.Handle("GET /login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>sign in</html>"))
	})
	c, _ := hookhttp.New(hookhttp.Config{Forge: "test", Base: s.URL})
	var out map[string]any
	_, err := c.Do(t.Context(), hookhttp.Call{Op: "get", Method: "GET", Path: "/login", Out: &out, Permission: "a token"})
	if !errors.Is(err, hooks.ErrPermission) || !strings.Contains(err.Error(), "needs a token") {
		t.Errorf("err = %v, want a permission error naming the permission", err)
	}
	// Without an expected body (a DELETE), the answer is accepted.
	if _, err := c.Do(t.Context(), hookhttp.Call{Op: "get", Method: "GET", Path: "/login"}); err != nil {
		t.Errorf("no body expected: %v", err)
	}
}
