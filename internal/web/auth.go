package web

// Authentication and CSRF.
//
// With an admin token configured, the login page takes the token and opens
// a session: a cookie holding "<expiry>.<nonce>.<mac>", where mac is an
// HMAC-SHA256 over expiry and nonce under a key derived from the token. The
// cookie never holds the token; it is HttpOnly, SameSite=Strict, and Secure
// when the request came over TLS (or through a proxy that says so). Any
// replica that knows the token verifies it, and changing the token ends
// every session. Logging out clears the cookie and remembers the nonce as
// revoked (in memory) until it expires.
//
// Every state-changing form carries a CSRF token: an HMAC of the session's
// nonce under a second derived key, compared in constant time. Without an
// admin token (a loopback listener) there is no login but the forms are
// protected the same way, with a random per-browser nonce in a cookie and
// per-process keys. On top of that, http.CrossOriginProtection refuses
// cross-site form posts by their Sec-Fetch-Site and Origin headers.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/throttle"
)

// Cookie names.
const (
	sessionCookie = "forgehook_session"
	csrfCookie    = "forgehook_csrf"
	flashCookie   = "forgehook_flash"
)

// keys are the UI's MAC keys, derived from the admin token (or random per
// process without one).
type keys struct {
	auth     bool   // a token is configured: sessions are required
	tokenSum []byte // SHA-256 of the token, compared in constant time
	session  []byte
	csrf     []byte
	flash    []byte
}

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

func deriveKeys(tok config.Secret) keys {
	var k keys
	var root []byte
	if tok != "" {
		k.auth = true
		root = []byte(tok.Reveal())
		sum := sha256.Sum256(root)
		k.tokenSum = sum[:]
	} else {
		// No token: keys of this process only; a restart asks for a reload.
		root = make([]byte, 32)
		_, _ = rand.Read(root)
	}
	k.session = mac(root, "forgehook web session v1")
	k.csrf = mac(root, "forgehook web csrf v1")
	k.flash = mac(root, "forgehook web flash v1")
	return k
}

// tokenMatches compares a submitted token with the admin token in constant
// time (over their hashes, so the length leaks nothing either).
func (k keys) tokenMatches(got string) bool {
	sum := sha256.Sum256([]byte(got))
	return k.auth && subtle.ConstantTimeCompare(sum[:], k.tokenSum) == 1
}

var b64 = base64.RawURLEncoding

// csrfToken returns the CSRF token of the session whose nonce is given.
func (k keys) csrfToken(nonce string) string {
	return b64.EncodeToString(mac(k.csrf, nonce))
}

// checkCSRF reports whether got is the CSRF token of nonce.
func (k keys) checkCSRF(nonce, got string) bool {
	// Strict: one token has one spelling (a lax decoder ignores the
	// unused low bits of the last character).
	b, err := b64.Strict().DecodeString(got)
	if err != nil || got == "" {
		return false
	}
	return hmac.Equal(b, mac(k.csrf, nonce))
}

// sessionValue encodes a session cookie's value.
func (k keys) sessionValue(s session) string {
	exp := strconv.FormatInt(s.exp.Unix(), 10)
	return exp + "." + s.nonce + "." + b64.EncodeToString(mac(k.session, exp, s.nonce))
}

// parseSession decodes and verifies a session cookie's value.
func (k keys) parseSession(v string, now time.Time) (session, bool) {
	exp, rest, ok := strings.Cut(v, ".")
	if !ok {
		return session{}, false
	}
	nonce, sig, ok := strings.Cut(rest, ".")
	if !ok || !validNonce(nonce) {
		return session{}, false
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(k.session, exp, nonce)) {
		return session{}, false
	}
	sec, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !time.Unix(sec, 0).After(now) {
		return session{}, false
	}
	return session{nonce: nonce, exp: time.Unix(sec, 0)}, true
}

// session identifies a logged-in browser (or, without a token, a browser).
type session struct {
	nonce string
	exp   time.Time // zero without a token
}

const nonceLen = 16 // bytes; hex-encoded in cookies

func validNonce(s string) bool {
	if len(s) != 2*nonceLen {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// session returns the request's session, if it has a valid one.
func (h *Handler) session(r *http.Request) (session, bool) {
	if !h.keys.auth {
		c, err := r.Cookie(csrfCookie)
		if err != nil || !validNonce(c.Value) {
			return session{}, false
		}
		return session{nonce: c.Value}, true
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	s, ok := h.keys.parseSession(c.Value, h.opts.Now())
	if !ok || h.revoked.revoked(s.nonce) {
		return session{}, false
	}
	return s, true
}

func isTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// cookie builds one of the UI's cookies: HttpOnly, SameSite=Strict, Secure
// over TLS. maxAge < 0 deletes it; 0 makes it last the browser session.
func cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: isTLS(r),
	}
}

// page wraps a handler of a GET page: with a token it requires a session
// (redirecting to the login page, or 401 for a live-refresh fragment);
// without one it makes sure the browser has a CSRF nonce for its forms.
func (h *Handler) page(fn func(http.ResponseWriter, *http.Request, session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := h.session(r)
		switch {
		case !ok && h.keys.auth:
			if r.URL.Query().Has("fragment") {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte("login required\n"))
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		case !ok:
			s = session{nonce: randomToken(nonceLen)}
			http.SetCookie(w, cookie(r, csrfCookie, s.nonce, 0))
		}
		fn(w, r, s)
	})
}

// maxForm bounds a form's body.
const maxForm = 64 << 10

// action wraps a handler of a state-changing POST form: cross-origin
// requests are refused (403), a session is required (401), and the form's
// csrf field must be the session's CSRF token (403).
func (h *Handler) action(fn func(http.ResponseWriter, *http.Request, session)) http.Handler {
	return h.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := h.session(r)
		if !ok && h.keys.auth {
			h.fail(w, r, http.StatusUnauthorized, "Login required", "Your session has ended: log in again, then repeat the action.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			h.fail(w, r, http.StatusBadRequest, "Bad form", "The form could not be read.")
			return
		}
		if !ok || !h.keys.checkCSRF(s.nonce, r.PostFormValue("csrf")) {
			h.log.Warn("web: CSRF check failed", "path", r.URL.Path, "remote", r.RemoteAddr)
			h.fail(w, r, http.StatusForbidden, "CSRF check failed",
				"The form's security token is missing or wrong. Reload the page and try again.")
			return
		}
		fn(w, r, s)
	}))
}

// safeNext returns next if it is a path on this site, else /events.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/events"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/login") {
		return "/events"
	}
	return next
}

type loginData struct {
	Next  string
	Error string
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if !h.keys.auth {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if _, ok := h.session(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "login", "layout", view{Title: "Log in", Nav: "login", Flash: h.takeFlash(w, r), Data: loginData{Next: next}})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, http.StatusBadRequest, "Bad form", "The form could not be read.")
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if !h.keys.auth {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	client, now := throttle.ClientKey(r), h.opts.Now()
	if ok, wait := h.fails.Allow(client, now); !ok {
		secs := int(wait/time.Second) + 1
		h.log.Warn("web: login refused: too many failed logins", "remote", r.RemoteAddr, "retry_in", secs)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		h.render(w, r, http.StatusTooManyRequests, "login", "layout", view{Title: "Log in", Nav: "login",
			Data: loginData{Next: next, Error: fmt.Sprintf("Too many failed logins from your address: try again in %d s.", secs)}})
		return
	}
	if !h.keys.tokenMatches(r.PostFormValue("token")) {
		h.fails.Fail(client, now)
		h.log.Warn("web: login refused: wrong token", "remote", r.RemoteAddr)
		h.render(w, r, http.StatusUnauthorized, "login", "layout", view{Title: "Log in", Nav: "login",
			Data: loginData{Next: next, Error: "That is not the admin token."}})
		return
	}
	h.fails.Succeed(client)
	s := session{nonce: randomToken(nonceLen), exp: h.opts.Now().Add(h.opts.SessionTTL)}
	http.SetCookie(w, cookie(r, sessionCookie, h.keys.sessionValue(s), int(h.opts.SessionTTL/time.Second)))
	h.log.Info("web: login", "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s session) {
	if h.keys.auth {
		h.revoked.revoke(s.nonce, s.exp, h.opts.Now())
		http.SetCookie(w, cookie(r, sessionCookie, "", -1))
		h.log.Info("web: logout", "remote", r.RemoteAddr)
	}
	h.setFlash(w, r, "ok", "Logged out.")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// flash is a one-time message shown after a redirect.
type flash struct {
	Kind    string // ok or error
	Message string
}

const maxFlash = 1500

// setFlash stores a message for the next page, in a signed cookie.
func (h *Handler) setFlash(w http.ResponseWriter, r *http.Request, kind, msg string) {
	if len(msg) > maxFlash {
		msg = msg[:maxFlash] + "…"
	}
	payload := b64.EncodeToString([]byte(kind + "\x00" + msg))
	v := payload + "." + b64.EncodeToString(mac(h.keys.flash, payload))
	http.SetCookie(w, cookie(r, flashCookie, v, 60))
}

// takeFlash returns the pending message, if any, and clears it.
func (h *Handler) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, cookie(r, flashCookie, "", -1))
	payload, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return nil
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(h.keys.flash, payload)) {
		return nil
	}
	b, err := b64.DecodeString(payload)
	if err != nil {
		return nil
	}
	kind, msg, _ := strings.Cut(string(b), "\x00")
	if kind != "ok" && kind != "error" {
		kind = "ok"
	}
	return &flash{Kind: kind, Message: msg}
}

// newView starts a full page's view: its CSRF token and pending flash.
func (h *Handler) newView(w http.ResponseWriter, r *http.Request, s session, title, nav string, data any) view {
	return view{Title: title, Nav: nav, CSRF: h.keys.csrfToken(s.nonce), Flash: h.takeFlash(w, r), Data: data}
}
