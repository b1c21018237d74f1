package hookhttp

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/forgehook/forgehook/internal/hooks"
)

// Events maps canonical kinds through table (kind -> the forge's names)
// and keeps the names listed in native as given; any other name is an
// error naming the forge. The result is sorted and without duplicates.
func Events(forge string, kinds []string, table map[string][]string, native []string) ([]string, error) {
	var out []string
	for _, k := range kinds {
		if names, ok := table[k]; ok {
			if len(names) == 0 {
				return nil, fmt.Errorf("%s: event kind %q: %w", forge, k, hooks.ErrUnsupported)
			}
			out = append(out, names...)
			continue
		}
		if slices.Contains(native, k) {
			out = append(out, k)
			continue
		}
		return nil, fmt.Errorf("%s: unknown event %q: neither a canonical kind nor one of the forge's event names", forge, k)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// SplitRepo splits "owner/repo" into its two escaped path segments; more
// slashes or an empty part is an error.
func SplitRepo(forge string, t hooks.Target) (owner, repo string, err error) {
	o, r, ok := strings.Cut(t.Name, "/")
	if !ok || o == "" || r == "" || strings.Contains(r, "/") {
		return "", "", fmt.Errorf("%s: target %s: want owner/repository", forge, t)
	}
	return url.PathEscape(o), url.PathEscape(r), nil
}

// Segment escapes one path segment and refuses an empty name or one with a
// slash.
func Segment(forge string, t hooks.Target) (string, error) {
	if t.Name == "" || strings.Contains(t.Name, "/") {
		return "", fmt.Errorf("%s: target %s: want a single name", forge, t)
	}
	return url.PathEscape(t.Name), nil
}

// Unsupported is the error of a target kind or call a forge lacks.
func Unsupported(forge, what string) error {
	return fmt.Errorf("%s: %s: %w", forge, what, hooks.ErrUnsupported)
}

// TokenAuth sets "Authorization: <scheme> <token>" (scheme "token" for
// Gitea and Gogs, "Bearer" for GitHub and Bitbucket).
func TokenAuth(scheme, token string) func(*http.Request) {
	return func(r *http.Request) {
		if token != "" {
			r.Header.Set("Authorization", scheme+" "+token)
		}
	}
}

// HeaderAuth sets one header to the token (GitLab's PRIVATE-TOKEN).
func HeaderAuth(name, token string) func(*http.Request) {
	return func(r *http.Request) {
		if token != "" {
			r.Header.Set(name, token)
		}
	}
}

// BasicAuth sets HTTP Basic credentials: token "user:password" is split at
// the first colon; a token without a colon is sent as the password with
// user (Azure DevOps takes a PAT with an empty user name).
func BasicAuth(user, token string) func(*http.Request) {
	return func(r *http.Request) {
		if token == "" {
			return
		}
		u, p, ok := strings.Cut(token, ":")
		if !ok {
			u, p = user, token
		}
		r.SetBasicAuth(u, p)
	}
}

// SetQueryAuth puts the token in the query parameter name of every request
// (Gitee's access_token). The query never reaches a log line or an error.
func SetQueryAuth(name, token string) func(*http.Request) {
	return func(r *http.Request) {
		if token == "" {
			return
		}
		q := r.URL.Query()
		q.Set(name, token)
		r.URL.RawQuery = q.Encode()
	}
}
