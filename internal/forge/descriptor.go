package forge

import (
	"io/fs"
	"net/http"
)

// Descriptor is a provider's declaration of itself: every fact about its
// forge that code outside the provider's package needs (the registry,
// auto-detection, `forgehook send`, header redaction and the tests) is read
// from it, so that a forge lives in one package. Each provider package
// returns its descriptor from a function Describe; package forge/all lists
// those functions once, in detection order.
//
// A Descriptor is a value: Describe returns a new one on every call, whose
// slices the caller may keep but must not modify.
type Descriptor struct {
	// ID is the forge id that endpoints name as their provider
	// ("bitbucket-server"); the provider's Name returns it.
	ID string
	// Folder is the provider's package directory under internal/forge
	// ("bitbucketserver"), where its testdata (deliveries, goldens, fuzz
	// corpus) lives.
	Folder string
	// New builds the provider for one endpoint.
	New Factory
	// Detect says how `provider: auto` recognizes the forge's deliveries.
	// Its zero value means the forge is not auto-detected (generic, auto).
	Detect Detection
	// DeliveryHeaders lists the headers in which the forge sends its
	// delivery id, the one Inspect reads first. `forgehook send` sets the
	// first, and those of the others that a sample carries (Gitea also
	// sends its id as X-Gogs-Delivery and X-GitHub-Delivery). Empty for a
	// forge that sends none, or sends it in the payload.
	DeliveryHeaders []string
	// CredentialHeaders lists the headers that carry the forge's
	// credentials (tokens, signatures, Authorization): their values are
	// never stored, logged or forwarded.
	CredentialHeaders []string
	// SignatureHeaders lists the headers that belong to the forge's
	// signature besides the credential itself (a timestamp, a message id):
	// whoever signs sets them afresh, so `forgehook send` drops those of an
	// example or a fixture before signing it.
	SignatureHeaders []string
	// Form says whether the forge can send form-encoded deliveries
	// (application/x-www-form-urlencoded with the JSON in payload=), and
	// which bytes it then signs.
	Form Form
	// QueryToken names the URL query parameter in which the forge's
	// endpoint expects the secret, for a forge that signs nothing and sends
	// no credential header (Docker Hub's ?token=); "" for the others.
	QueryToken string
	// Samples holds the example deliveries `forgehook send` sends, one
	// samples/<kind>.txtar per canonical kind it has an example of (the
	// format of package sample), embedded from the provider's package
	// directory; nil for a provider that is not a forge (generic, auto).
	Samples fs.FS
}

// Forge reports whether d describes a forge that auto-detection can pick
// and `forgehook send` can send as, rather than a provider over others
// (auto) or one whose scheme each endpoint configures (generic).
func (d Descriptor) Forge() bool { return d.Detect.ByPayload || len(d.Detect.Headers) > 0 }

// Detection says how auto-detection recognizes a forge's deliveries: by
// headers, or, for a forge that sends no identifying header, by the shape
// of its payload.
type Detection struct {
	// Headers identify the forge's deliveries: a delivery carrying any of
	// them (non-empty) is the forge's, if it also carries one of AlsoOneOf.
	Headers []string
	// AlsoOneOf, when non-empty, lists headers of which one must come with
	// Headers: Bitbucket Cloud and Server both send X-Event-Key, and only
	// Cloud sends its hook and request UUIDs.
	AlsoOneOf []string
	// ByPayload says the forge is recognized by its payload: its provider
	// is a BodyInspector whose InspectBody does not fail with
	// ErrNotRecognized on the forge's deliveries. Forges detected by
	// headers leave it false.
	ByPayload bool
}

// Match reports whether h identifies the forge by its headers. It is false
// for a forge detected by its payload.
func (d Detection) Match(h http.Header) bool {
	return anyHeader(h, d.Headers) && (len(d.AlsoOneOf) == 0 || anyHeader(h, d.AlsoOneOf))
}

// anyHeader reports whether h carries a non-empty value for any of names.
func anyHeader(h http.Header, names []string) bool {
	for _, n := range names {
		if h.Get(n) != "" {
			return true
		}
	}
	return false
}

// Form says whether a forge sends form-encoded deliveries and what it
// signs then.
type Form int

const (
	// FormNone means the forge sends JSON only.
	FormNone Form = iota
	// FormSignsBody means the forge can send form-encoded deliveries and
	// signs the form body as sent (GitHub; CODING as forgehook's verifier
	// reads it first).
	FormSignsBody
	// FormSignsPayload means the forge can send form-encoded deliveries
	// and signs the JSON payload before encoding it (the Gitea family:
	// Gitea, Forgejo, Gogs).
	FormSignsPayload
)

// String returns "none", "signs body" or "signs payload".
func (f Form) String() string {
	switch f {
	case FormSignsBody:
		return "signs body"
	case FormSignsPayload:
		return "signs payload"
	}
	return "none"
}
