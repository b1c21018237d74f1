package httpaction

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/atomgit"
	"github.com/forgehook/forgehook/internal/forge/bitbucket"
	"github.com/forgehook/forgehook/internal/forge/bitbucketserver"
	"github.com/forgehook/forgehook/internal/forge/coding"
	"github.com/forgehook/forgehook/internal/forge/forgejo"
	"github.com/forgehook/forgehook/internal/forge/gerrit"
	"github.com/forgehook/forgehook/internal/forge/gitea"
	"github.com/forgehook/forgehook/internal/forge/gitee"
	"github.com/forgehook/forgehook/internal/forge/github"
	"github.com/forgehook/forgehook/internal/forge/gitlab"
	"github.com/forgehook/forgehook/internal/forge/gogs"
	"github.com/forgehook/forgehook/internal/forge/harbor"
)

// forgeHeaders returns the names of the headers that the forge forgeID
// itself sets on its deliveries: its event, delivery, hook and signature
// headers, as its provider package names them (and, for the headers no
// provider reads, as ../shared/forges.md lists them). Format original
// forwards only these: every other header of the stored request was added
// by the sender's network or by whoever sent it (X-HTTP-Method-Override,
// Cookie, X-Forwarded-*, ...) and is not the forge's to pass on. Signature
// and token headers are in the list but never forwarded as stored (the
// record redacts them): the signer computes them again. A forge without
// identifying headers (Docker Hub, Azure DevOps, generic) gets none.
func forgeHeaders(forgeID string) []string {
	// Gitea, Forgejo and Gogs repeat their event and delivery headers
	// under the GitHub and Gogs names.
	giteaFamily := []string{
		gitea.HeaderEvent, gitea.HeaderEventType, gitea.HeaderDelivery, gitea.HeaderSignature,
		gitea.HeaderGogsSignature, gitea.HeaderHubSignature256, gitea.HeaderHubSignature,
		gogs.HeaderEvent, gogs.HeaderEventType, gogs.HeaderDelivery,
		github.HeaderEvent, "X-GitHub-Event-Type", github.HeaderDelivery,
		"X-Gitea-Hook-Installation-Target-Type", "X-GitHub-Hook-Installation-Target-Type",
	}
	switch forgeID {
	case "github":
		return []string{
			github.HeaderEvent, github.HeaderDelivery, github.HeaderSignature256, github.HeaderSignature,
			"X-GitHub-Hook-ID", "X-GitHub-Hook-Installation-Target-Type", "X-GitHub-Hook-Installation-Target-ID",
			"X-GitHub-Enterprise-Version", "X-GitHub-Enterprise-Host",
		}
	case "gitlab":
		return []string{
			gitlab.HeaderEvent, gitlab.HeaderWebhookUUID, gitlab.HeaderEventUUID, gitlab.HeaderInstance,
			gitlab.HeaderIdempotencyKey, gitlab.HeaderToken,
			gitlab.HeaderWebhookID, gitlab.HeaderWebhookTimestamp, gitlab.HeaderWebhookSignature,
		}
	case "gitea":
		return giteaFamily
	case "forgejo":
		return append(giteaFamily, forgejo.HeaderEvent, forgejo.HeaderEventType, forgejo.HeaderDelivery, forgejo.HeaderSignature)
	case "gogs":
		return []string{gogs.HeaderEvent, gogs.HeaderEventType, gogs.HeaderDelivery, gitea.HeaderGogsSignature,
			github.HeaderEvent, github.HeaderDelivery}
	case "gitee":
		return []string{gitee.HeaderEvent, gitee.HeaderLegacyEvent, gitee.HeaderToken, gitee.HeaderTimestamp,
			gitee.HeaderPing, gitee.HeaderRequestID, gitee.HeaderGiteeRequestID}
	case "atomgit":
		return []string{atomgit.HeaderEvent, atomgit.HeaderGitCodeEvent, atomgit.HeaderDelivery, atomgit.HeaderGitCodeDelivery,
			atomgit.HeaderToken, atomgit.HeaderGitCodeToken, atomgit.HeaderSignature, atomgit.HeaderGitCodeSignature}
	case "coding":
		return []string{coding.HeaderEvent, coding.HeaderServiceHookEvent, coding.HeaderServiceHookID,
			coding.HeaderServiceHookAction, coding.HeaderDelivery, coding.HeaderSignature, coding.HeaderWebHookVersion}
	case "bitbucket":
		return []string{bitbucket.HeaderEventKey, bitbucket.HeaderRequestUUID, bitbucket.HeaderHookUUID,
			bitbucket.HeaderAttemptNumber, bitbucket.HeaderSignature}
	case "bitbucket-server":
		return []string{bitbucket.HeaderEventKey, bitbucket.HeaderSignature, bitbucketserver.HeaderRequestID}
	case "harbor":
		return []string{harbor.HeaderCEType, harbor.HeaderCEID}
	case "gerrit":
		return []string{gerrit.HeaderOriginURL}
	}
	return nil
}

// copyOriginal copies to dst the headers of src (a record's headers) that
// the forge forgeID sets itself (forgeHeaders), except credentials and
// values the record redacted.
func copyOriginal(dst http.Header, src map[string][]string, forgeID string) {
	own := forgeHeaders(forgeID)
	for i, n := range own {
		own[i] = http.CanonicalHeaderKey(n)
	}
	for k, v := range src {
		c := http.CanonicalHeaderKey(k)
		if !slices.Contains(own, c) || event.IsCredentialHeader(c) || slices.Contains(v, event.Redacted) {
			continue
		}
		dst[c] = append(dst[c], v...)
	}
}

// originalUserAgent returns the User-Agent the forge sent (GitHub-Hookshot/…,
// GitLab/…), or "" when the record has none.
func originalUserAgent(src map[string][]string) string {
	for k, v := range src {
		if http.CanonicalHeaderKey(k) == "User-Agent" && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// OriginalHeaders returns the headers of the forge's own delivery of ev,
// as format original sends it: the forge's own headers of the stored
// request (forgeHeaders) except credentials and redacted values, the
// Content-Type of its JSON body and its User-Agent (UserAgent when the
// record has none). It is what `forgehook forward` re-sends too. The body
// to send with them is ev.Data.Body; SignOriginal signs them.
func OriginalHeaders(ev *event.Event) http.Header {
	h := make(http.Header, len(ev.Data.Header)+4)
	copyOriginal(h, ev.Data.Header, ev.Forge)
	// The record keeps the JSON document even when the forge sent a
	// form, so the body is JSON either way.
	h.Set("Content-Type", contentTypeJSON)
	h.Set("User-Agent", cmp.Or(originalUserAgent(ev.Data.Header), UserAgent))
	return h
}

// SignOriginal sets on h (from OriginalHeaders) the forge's own
// signature of ev.Data.Body with secret, made by s at time now, and the
// Content-Type of the JSON body. With an empty secret it only sets the
// Content-Type; with a secret and a nil s (a forge that cannot sign) it
// returns an error wrapping ErrNoSigner.
func SignOriginal(h http.Header, ev *event.Event, s forge.Signer, secret string, now time.Time) error {
	h.Set("Content-Type", contentTypeJSON)
	if secret == "" {
		return nil
	}
	if s == nil {
		return fmt.Errorf("%w: %q", ErrNoSigner, ev.Forge)
	}
	s.Sign(h, ev.Data.Body, secret, now)
	return nil
}
