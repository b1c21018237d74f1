package forge

import (
	"github.com/forgehook/forgehook/internal/config"
)

// Keys returns the secrets' bytes for a verifier. The caller must not keep
// or log them.
func Keys(secrets []config.Secret) [][]byte {
	out := make([][]byte, len(secrets))
	for i, s := range secrets {
		out[i] = []byte(s.Reveal())
	}
	return out
}
