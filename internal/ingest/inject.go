package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/event"
)

// Headers that only Inject may put into a stored event: ingest deletes
// them from every request that arrives over the network, so a stored one
// always comes from forgehook itself.
const (
	// HeaderRecovered marks a delivery recovery fetched from the forge's
	// API ("github-fetch").
	HeaderRecovered = "X-Forgehook-Recovered"
	// HeaderSynthetic marks an event recovery made by polling ("poll").
	HeaderSynthetic = "X-Forgehook-Synthetic"
)

// injectKey marks, in a request's context, a delivery given to Inject.
type injectKey struct{}

// injected is what Inject tells serve about its request.
type injected struct {
	// trusted skips the address check and the signature: the delivery
	// came from the forge's API under forgehook's token, or forgehook
	// made it.
	trusted bool
}

func injectedFrom(ctx context.Context) (injected, bool) {
	v, ok := ctx.Value(injectKey{}).(injected)
	return v, ok
}

// Injected is what Inject did with a delivery.
type Injected struct {
	// ID is the stored event's id (the original's for a duplicate).
	ID string `json:"id"`
	// Duplicate reports that the delivery's dedup key was already stored.
	Duplicate bool `json:"duplicate"`
	// Ping reports that it was answered as a ping and not stored.
	Ping bool `json:"ping,omitempty"`
}

// Inject passes a delivery that recovery got from a forge's API (or made
// by polling) through the endpoint's ingest path in-process: size limit,
// JSON check, identification, normalization, dedup and the wait for the
// store's acknowledgement, exactly as for a delivery received. The
// address allowlist and the per-source limits do not apply; trusted also
// skips signature verification (the caller vouches for the delivery).
// X-Forgehook-Recovered and X-Forgehook-Synthetic in header are kept in the
// stored headers. header and payload are not retained. An answer other
// than 200 is an error that carries the status and reason.
func (h *Handler) Inject(ctx context.Context, endpoint string, header http.Header, payload []byte, trusted bool) (Injected, error) {
	var ep *Endpoint
	for _, e := range *h.endpoints.Load() {
		if e.Name == endpoint {
			ep = e
			break
		}
	}
	if ep == nil {
		return Injected{}, fmt.Errorf("ingest: inject into endpoint %q: no such endpoint", endpoint)
	}
	ctx = context.WithValue(ctx, injectKey{}, injected{trusted: trusted})
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, Prefix+ep.Path, bytes.NewReader(payload))
	if err != nil {
		return Injected{}, fmt.Errorf("ingest: inject into endpoint %q: %w", endpoint, err)
	}
	r.Header = header.Clone()
	r.RemoteAddr = "127.0.0.1:0"
	w := &recorder{header: http.Header{}}
	h.ServeHTTP(w, r)
	var a struct {
		ID        string `json:"id"`
		Duplicate bool   `json:"duplicate"`
		Ping      bool   `json:"ping"`
		Error     string `json:"error"`
	}
	_ = json.Unmarshal(w.body.Bytes(), &a)
	if w.status != http.StatusOK {
		return Injected{}, fmt.Errorf("ingest: inject into endpoint %q: HTTP %d: %s", endpoint, w.status, a.Error)
	}
	return Injected{ID: a.ID, Duplicate: a.Duplicate, Ping: a.Ping}, nil
}

// recorder is the ResponseWriter of an injected request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }
func (w *recorder) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// stripMarks deletes the headers only Inject may set from a request that
// came over the network.
func stripMarks(h http.Header) {
	if len(h[HeaderRecovered]) > 0 {
		delete(h, HeaderRecovered)
	}
	if len(h[HeaderSynthetic]) > 0 {
		delete(h, HeaderSynthetic)
	}
}

// RefKey is the dedup key of a push event on an endpoint polled for its
// heads (Endpoint.RefDedup): repository, ref and new head, so that a
// synthetic push made by polling and the real webhook of the same push are
// stored once, whichever comes first. forgeEvent is the forge's event name:
// only the polled forges' push events have one ("push" on the Gitea family,
// Gitee's and AtomGit's "Push Hook" and "Tag Push Hook", Bitbucket's
// "repo:push" and "repo:refs_changed"); the Gitea family's "create" twin
// of a new branch or tag, which carries the same ref and head, keeps its
// delivery id, or it would take the push for its duplicate. "" for other
// events and for deletions.
func RefKey(forgeEvent string, f *event.Fields) string {
	if !refKeyEvent(forgeEvent) || (f.Kind != event.KindPush && f.Kind != event.KindTag) || f.Deleted || f.After == "" ||
		!strings.HasPrefix(f.Ref, "refs/") || f.Repository.FullName == "" || strings.Trim(f.After, "0") == "" {
		return ""
	}
	return "ref:" + f.Repository.FullName + ":" + f.Ref + ":" + f.After
}

// refKeyEvent reports whether forgeEvent names a push that RefKey keys.
func refKeyEvent(forgeEvent string) bool {
	switch forgeEvent {
	case "push", "Push Hook", "Tag Push Hook", "push_hooks", "tag_push_hooks", "repo:push", "repo:refs_changed":
		return true
	}
	return false
}

// Tests is where recovery records the GitLab test event it asked for
// (re-enabling a disabled hook), which must reach no trigger.
type Tests interface {
	// ConsumeTest reports whether a push of ref to after on endpoint at now
	// is the test event recovery expects, and if so forgets it.
	ConsumeTest(ctx context.Context, endpoint, ref, after string, now time.Time) (bool, error)
}
