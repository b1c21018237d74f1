package web

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
)

// pageNames are the page templates; each is parsed with layout.html.
func pageNames() []string {
	return []string{"events", "event", "dead", "endpoints", "triggers", "hooks", "login", "error"}
}

func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageNames() {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("page %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"rel":      func(t time.Time) string { return relTime(t, h.opts.Now()) },
		"abs":      absTime,
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
		"label":    stateLabel,
		"dur":      duration,
		"code":     statusCode,
		"excerpt":  excerpt,
		"eventURL": eventURL,
		"deadURL":  deadURL,
		"join":     strings.Join,
		"short":    shortSHA,
		"add":      func(a, b int) int { return a + b },
	}
}

// relTime says how long ago (or in how long) t is from now.
func relTime(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, ""
	}
	var s string
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		s = strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		s = strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		s = strconv.Itoa(int(d/time.Hour)) + " h"
	default:
		s = strconv.Itoa(int(d/(24*time.Hour))) + " days"
	}
	if suffix == "" {
		return "in " + s
	}
	return s + suffix
}

func absTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// stateLabel is a state's words ("not_matched" -> "not matched").
func stateLabel(s string) string { return strings.ReplaceAll(s, "_", " ") }

func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

// statusCode shows an attempt's status: an HTTP status for http actions,
// an exit code for exec.
func statusCode(kind string, code int) string {
	switch {
	case code == 0 && kind != "exec":
		return "–"
	case kind == "http":
		return "HTTP " + strconv.Itoa(code)
	case kind == "exec":
		return "exit " + strconv.Itoa(code)
	default:
		return strconv.Itoa(code)
	}
}

// excerpt cuts s to at most n bytes (on a rune boundary), marking the cut.
func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// shortSHA shortens a commit id to 12 characters.
func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
