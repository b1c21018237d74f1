package hooks

import "context"

// SecretReplacer is implemented by the clients of forges whose API cannot
// change a hook's secret in place: Gitea's API edit ignores config.secret
// (routers/api/v1/utils/hook.go editHook in Gitea 1.26 sets URL, content
// type, events, branch filter, authorization header, active and name, never
// the secret; verified live on Gitea 1.26.0: after a PATCH with a new
// config.secret, test deliveries are still signed with the old one). To
// rotate the secret there, the reconciler calls
// ReplaceForSecret instead of Update: it registers a new hook with s first
// and deletes hook id only then, so deliveries never stop (for a moment
// both hooks deliver, as two deliveries with distinct ids). The returned
// Hook has a new id, which must replace the recorded one. If the delete
// fails, the new hook is returned with the error, so the caller records
// it and reports the old one.
type SecretReplacer interface {
	ReplaceForSecret(ctx context.Context, t Target, id string, s Spec) (Hook, error)
}
