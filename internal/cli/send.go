package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/forge/auto"
	"github.com/forgehook/forgehook/internal/redact"
	"github.com/forgehook/forgehook/internal/sample"
)

// SendSecretEnv is the environment variable `forgehook send` reads the
// secret from when neither --secret nor --secret-file is given.
const SendSecretEnv = "FORGEHOOK_SEND_SECRET"

// maxAnswer bounds how much of the server's answer send reads and prints.
const maxAnswer = 1 << 20

// sendOptions is what `forgehook send` builds a delivery from.
type sendOptions struct {
	provider string // forge id; may be empty with a fixture file
	kind     string // canonical kind of the sample (or of the headers for a JSON file)
	secret   string // "" sends no credential
	file     string // a JSON payload or a fixture .txtar
	form     bool   // send application/x-www-form-urlencoded payload=
	delivery string // delivery id; "" for a fresh one
	headers  []headerFlag
}

// delivery is one request ready to send, as the forge would send it.
type delivery struct {
	Provider string
	Event    string // the forge's event name, as Inspect reads it
	Kind     string // the canonical kind, as Normalize gives it
	Delivery string // the delivery id, as Inspect reads it
	Origin   string // what the payload is: "sample github/push (source)" or the file
	Header   http.Header
	Body     []byte
	// Query holds parameters to add to the URL (Docker Hub's token).
	Query url.Values
	// Credentials says, without any secret, how the delivery is
	// authenticated.
	Credentials string
	// Notes are what the user should know that does not stop the send:
	// an ignored flag, a delivery the server will not store.
	Notes []string
}

// headerFlag is one --header K:V.
type headerFlag struct{ name, value string }

// headerFlags collects repeated --header flags.
type headerFlags struct{ list *[]headerFlag }

func (h headerFlags) String() string {
	if h.list == nil {
		return ""
	}
	names := make([]string, len(*h.list))
	for i, f := range *h.list {
		names[i] = f.name + ":…"
	}
	return strings.Join(names, ", ")
}

func (h headerFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	k = strings.TrimSpace(k)
	if !ok || k == "" || strings.ContainsAny(k, " \t\r\n") {
		return fmt.Errorf("%q is not Name:value", v)
	}
	*h.list = append(*h.list, headerFlag{http.CanonicalHeaderKey(k), strings.TrimSpace(val)})
	return nil
}

// runSend implements `forgehook send`: it builds a delivery as a forge
// would (its headers, a fresh delivery id, its signature scheme), POSTs it
// and prints the answer. It fails on a non-2xx answer.
func runSend(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "send")
	var o sendOptions
	fs.StringVar(&o.provider, "provider", "", "forge to send as: "+strings.Join(forgeNames(), ", ")+" (optional with a fixture --file)")
	fs.StringVar(&o.kind, "event", "", "canonical kind of the example delivery: push, tag, pull_request, comment, issue, release, pipeline, registry, ping (default push, or the forge's first example when it has no push: registry for dockerhub and harbor)")
	secret := fs.String("secret", "", "the endpoint's secret (or --secret-file, or $"+SendSecretEnv+"); without one the delivery is unsigned")
	secretFile := fs.String("secret-file", "", "file holding the secret (one line)")
	fs.StringVar(&o.file, "file", "", "send your own payload: a JSON file (with the headers of --event's example) or a fixture .txtar")
	fs.BoolVar(&o.form, "form", false, "send application/x-www-form-urlencoded payload= ("+strings.Join(formForges(), ", ")+")")
	fs.StringVar(&o.delivery, "delivery", "", "delivery id to send (default: a fresh random one); repeat one to test deduplication")
	fs.Var(headerFlags{&o.headers}, "header", "extra header `Name:value` (repeatable)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	list := fs.Bool("list", false, "list the example deliveries (provider and kinds) and exit")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: forgehook send [flags] URL")
		fmt.Fprintln(fs.Output(), "\nSends a real example delivery, signed as the chosen forge signs it, to URL (an endpoint's /hooks/... URL).")
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *list {
		for _, d := range sortedForges() {
			fmt.Fprintf(env.Stdout, "%-17s %s\n", d.ID, strings.Join(sample.Kinds(d), " "))
		}
		return nil
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: give one URL (forgehook send [flags] URL)", errUsage)
	}
	target, err := url.Parse(rest[0])
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return fmt.Errorf("%w: %q is not an http(s) URL", errUsage, redact.URL(rest[0]))
	}
	if o.secret, err = readSecret(env, *secret, *secretFile); err != nil {
		return err
	}
	d, err := buildDelivery(o, time.Now(), newDeliveryID)
	if err != nil {
		return err
	}
	if len(d.Query) > 0 {
		q := target.Query()
		for k, vs := range d.Query {
			q[k] = vs
		}
		target.RawQuery = q.Encode()
	}
	shown := redact.URL(target.String())

	fmt.Fprintf(env.Stderr, "POST %s\n", shown)
	fmt.Fprintf(env.Stderr, "  %s %s (event %q), delivery %s\n", d.Provider, orDash(d.Kind), d.Event, orDash(d.Delivery))
	fmt.Fprintf(env.Stderr, "  payload: %s\n", d.Origin)
	fmt.Fprintf(env.Stderr, "  credentials: %s\n", d.Credentials)
	for _, n := range d.Notes {
		fmt.Fprintf(env.Stderr, "  note: %s\n", n)
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(d.Body))
	if err != nil {
		return fmt.Errorf("POST %s: %w", shown, withoutURL(err))
	}
	req.Header = d.Header
	// Like the forges, do not follow redirects: a 3xx is the answer.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", shown, withoutURL(err))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("POST %s: reading the answer: %w", shown, err)
	}
	fmt.Fprintf(env.Stdout, "%s %s\n", resp.Proto, resp.Status)
	if len(answer) > 0 {
		env.Stdout.Write(bytes.TrimRight(answer, "\n"))
		fmt.Fprintln(env.Stdout)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s", shown, resp.Status)
	}
	return nil
}

// withoutURL returns the cause of a *url.Error, whose message repeats the
// whole URL (and so a token in its query); other errors unchanged.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// parseInterspersed parses flags that may come before or after the
// positional arguments ("send URL --provider github" as well as "send
// --provider github URL") and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// readSecret returns the secret from --secret, --secret-file or the
// environment, in that order of precedence; "" when none is given.
func readSecret(env *Env, flagValue, file string) (string, error) {
	switch {
	case flagValue != "" && file != "":
		return "", fmt.Errorf("%w: give --secret or --secret-file, not both", errUsage)
	case flagValue != "":
		return flagValue, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--secret-file: %w", err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", fmt.Errorf("--secret-file %s is empty", file)
		}
		return s, nil
	case env.Getenv != nil:
		return env.Getenv(SendSecretEnv), nil
	}
	return "", nil
}

// buildDelivery builds the request a forge would send for o at now, with
// newID making fresh delivery ids. It does no network I/O.
func buildDelivery(o sendOptions, now time.Time, newID func() string) (*delivery, error) {
	if o.provider == "auto" || o.provider == "generic" {
		return nil, fmt.Errorf("%w: --provider %s: send as a forge (%s); a generic endpoint's scheme is in its configuration, send to it with curl", errUsage, o.provider, strings.Join(forgeNames(), ", "))
	}
	src, err := loadPayload(&o)
	if err != nil {
		return nil, err
	}
	reg := all.Registry()
	desc, ok := reg.Descriptor(o.provider)
	if !ok {
		return nil, fmt.Errorf("%w: --provider %q: not a forge forgehook knows (forges: %s)", errUsage, o.provider, strings.Join(forgeNames(), ", "))
	}
	p, err := reg.New(&config.Endpoint{Name: "send", Provider: o.provider})
	if err != nil {
		return nil, err
	}
	d := &delivery{Provider: o.provider, Origin: src.origin, Query: url.Values{}}

	h := src.header.Clone()
	sample.RemoveCredentials(h, sample.Declared(desc)...)
	form := o.form || src.form
	signBody := false
	if form {
		if desc.Form == forge.FormNone {
			return nil, fmt.Errorf("%w: --form: %s does not send form-encoded deliveries (only %s do)", errUsage, o.provider, strings.Join(formForges(), ", "))
		}
		signBody = desc.Form == forge.FormSignsBody
	}

	// A fresh delivery id in every header the forge puts it in: the first,
	// and the others the example carries (Gitea also sends its id as
	// X-Gogs-Delivery and X-GitHub-Delivery).
	names := desc.DeliveryHeaders
	id := o.delivery
	if id == "" {
		id = newID()
	}
	for i, n := range names {
		if i == 0 || h.Get(n) != "" {
			h.Set(n, id)
		}
	}
	if len(names) == 0 && o.delivery != "" {
		d.Notes = append(d.Notes, fmt.Sprintf("%s sends no delivery id header: --delivery ignored", o.provider))
	}

	for _, x := range o.headers {
		h.Set(x.name, x.value)
	}

	body := src.payload
	if form {
		body = []byte(url.Values{"payload": {string(src.payload)}}.Encode())
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	} else if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	d.Header, d.Body = h, body

	if err := sign(d, p, desc.QueryToken, o.secret, src.payload, form, signBody || !form, now); err != nil {
		return nil, err
	}

	// Read the result back with the provider's own code, as ingest will.
	if o.secret != "" {
		req := &forge.Request{Header: d.Header, Body: d.Body, Payload: src.payload, Form: form, Query: d.Query, Received: now}
		if err := p.Verify(req, []config.Secret{config.Secret(o.secret)}); err != nil {
			d.Notes = append(d.Notes, fmt.Sprintf("the delivery does not verify with forgehook's %s verifier (%v); check the form of the secret", o.provider, err))
		}
	}
	m, err := forge.InspectRequest(p, d.Header, src.payload)
	if err != nil {
		d.Notes = append(d.Notes, fmt.Sprintf("%s would not recognize this delivery: %v", o.provider, err))
		return d, nil
	}
	d.Event, d.Delivery = m.Event, m.Delivery
	if len(names) == 0 {
		where := "sends no delivery id: the server keys a delivery on a hash of its payload"
		if m.Delivery != "" {
			where = "sends its delivery id in the payload"
		}
		d.Notes = append(d.Notes, fmt.Sprintf("%s %s, so sending the same payload again is answered as a duplicate", o.provider, where))
	}
	f, err := p.Normalize(m, src.payload)
	if err != nil {
		d.Notes = append(d.Notes, fmt.Sprintf("%s cannot read this payload: %v", o.provider, err))
		return d, nil
	}
	d.Kind = string(f.Kind)
	if m.Ping && f.Kind != event.KindPing {
		d.Notes = append(d.Notes, fmt.Sprintf("%s marks this delivery as a test (ping): the server answers it without storing an event", o.provider))
	}
	return d, nil
}

// sign authenticates d with secret as d.Provider's forge does: in the URL
// query parameter queryToken when the forge takes its secret there (the
// descriptor's QueryToken), else with p's Signer. signBody selects the
// bytes a signature covers: the body as sent (JSON, or GitHub's and
// CODING's form body), else the JSON payload (the Gitea family's form
// hooks); form says the body is form-encoded.
func sign(d *delivery, p forge.Provider, queryToken, secret string, payload []byte, form, signBody bool, now time.Time) error {
	if secret == "" {
		d.Credentials = "none (no --secret, --secret-file or $" + SendSecretEnv + "): the endpoint must be insecure: true"
		return nil
	}
	if param := queryToken; param != "" {
		d.Query.Set(param, secret)
		d.Credentials = fmt.Sprintf("the secret in the URL as ?%s= (%s signs nothing: the hook URL you give it carries the token)", param, d.Provider)
		return nil
	}
	s, ok := p.(forge.Signer)
	if !ok {
		return fmt.Errorf("%s has no credential scheme send knows: send without a secret to an insecure endpoint", d.Provider)
	}
	before := d.Header.Clone()
	signed := payload
	if signBody {
		signed = d.Body
	}
	s.Sign(d.Header, signed, secret, now)
	var set []string
	for k, v := range d.Header {
		if !slices.Equal(before[k], v) {
			set = append(set, k)
		}
	}
	sort.Strings(set)
	d.Credentials = fmt.Sprintf("%s (%s's scheme)", strings.Join(set, ", "), d.Provider)
	if form {
		if signBody {
			d.Credentials += "; a signature covers the form body as sent"
		} else {
			d.Credentials += "; a signature covers the JSON payload, not the form body"
		}
	}
	return nil
}

// source is the payload and headers a delivery starts from.
type source struct {
	header  http.Header
	payload []byte
	form    bool
	origin  string
}

// loadPayload reads the example delivery, the JSON file or the fixture that
// o names, and fills in o.provider from a fixture's headers when it is
// empty.
func loadPayload(o *sendOptions) (*source, error) {
	if o.kind == "" {
		o.kind = "push"
		for _, d := range all.Forges() {
			if d.ID == o.provider {
				o.kind = defaultKind(d)
			}
		}
	}
	if o.file == "" {
		if o.provider == "" {
			return nil, fmt.Errorf("%w: --provider is required (forges: %s)", errUsage, strings.Join(forgeNames(), ", "))
		}
		s, err := forgeSample(o.provider, o.kind)
		if err != nil {
			return nil, usageIfNotFound(err)
		}
		return &source{header: s.Header, payload: s.Payload, origin: fmt.Sprintf("example %s/%s from %s (source: %s)", o.provider, o.kind, s.Fixture, s.Source)}, nil
	}
	data, err := os.ReadFile(o.file)
	if err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	if json.Valid(data) {
		if o.provider == "" {
			return nil, fmt.Errorf("%w: --provider is required with a JSON --file (forges: %s)", errUsage, strings.Join(forgeNames(), ", "))
		}
		s, err := forgeSample(o.provider, o.kind)
		if err != nil {
			return nil, usageIfNotFound(fmt.Errorf("--file %s takes the headers of the %s %s example: %w", o.file, o.provider, o.kind, err))
		}
		return &source{header: s.Header, payload: bytes.TrimSpace(data), origin: fmt.Sprintf("%s, with the headers of example %s/%s", o.file, o.provider, o.kind)}, nil
	}
	s, err := sample.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("--file %s: neither JSON nor a fixture (.txtar): %w", o.file, err)
	}
	if !json.Valid(s.Payload) {
		return nil, fmt.Errorf("--file %s: the body is not JSON", o.file)
	}
	if o.provider == "" {
		if o.provider, err = detect(s.Header, s.Payload); err != nil {
			return nil, fmt.Errorf("%w: --file %s: %v; give --provider", errUsage, o.file, err)
		}
	}
	origin := o.file
	if s.Source != "" {
		origin += " (source: " + s.Source + ")"
	}
	return &source{header: s.Header, payload: s.Payload, form: s.Form, origin: origin}, nil
}

// detect tells the forge of a delivery from its headers and payload, as
// `provider: auto` does.
func detect(h http.Header, payload []byte) (string, error) {
	p, err := auto.Factory(all.Forges())(nil)
	if err != nil {
		return "", err
	}
	id, _, err := p.(*auto.Provider).Detect(h, payload)
	return id, err
}

// sortedForges returns the descriptors of the forges send can send as (the
// registered providers that are forges, not auto or generic), sorted by id.
func sortedForges() []forge.Descriptor {
	out := all.Forges()
	slices.SortFunc(out, func(a, b forge.Descriptor) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// forgeNames returns the ids of the forges send can send as, sorted.
func forgeNames() []string {
	var out []string
	for _, d := range sortedForges() {
		out = append(out, d.ID)
	}
	return out
}

// forgeSample returns the example delivery of the forge id for kind. The
// error wraps sample.ErrNotFound for a forge send does not know or a kind
// it has no example of.
func forgeSample(id, kind string) (*sample.Sample, error) {
	for _, d := range all.Forges() {
		if d.ID == id {
			return sample.Get(d, kind)
		}
	}
	return nil, fmt.Errorf("%w for provider %q (providers: %s)", sample.ErrNotFound, id, strings.Join(forgeNames(), ", "))
}

// defaultKind is the kind sent when --event is not given: push, else for a
// registry (Docker Hub, Harbor) its image push, else the forge's first
// example.
func defaultKind(d forge.Descriptor) string {
	kinds := sample.Kinds(d)
	for _, k := range []string{"push", "registry"} {
		if len(kinds) == 0 || slices.Contains(kinds, k) {
			return k
		}
	}
	return kinds[0]
}

// formForges returns the forges that send form-encoded deliveries, sorted.
func formForges() []string {
	var out []string
	for _, d := range all.Forges() {
		if d.Form != forge.FormNone {
			out = append(out, d.ID)
		}
	}
	sort.Strings(out)
	return out
}

func usageIfNotFound(err error) error {
	if errors.Is(err, sample.ErrNotFound) {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return err
}

// newDeliveryID returns a random UUID (version 4), the form of most
// forges' delivery ids.
func newDeliveryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
