package action

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/nats-io/nats.go"

	"github.com/forgehook/forgehook/internal/forge"
)

// Env is what actions may use from the running process.
type Env struct {
	// Logger receives the action's log lines.
	Logger *slog.Logger
	// Stdout is where the log action prints.
	Stdout io.Writer
	// NATS is the store's connection, for the nats action's default.
	NATS *nats.Conn
	// Signer returns the signer of a forge id (for http format: original),
	// nil when the forge has none.
	Signer func(forgeID string) forge.Signer
}

// KeyError is a problem with one key of an action's block, found when the
// action is built (a URL that does not parse, a program not found). The
// trigger builder turns it into a configuration error at that key's line.
type KeyError struct {
	// Key is the key's path inside the block, such as "url" or "env.FOO".
	Key string
	// Err is what is wrong; it never holds a secret.
	Err error
}

// Error formats e as "key: problem".
func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }

// Unwrap returns the problem.
func (e *KeyError) Unwrap() error { return e.Err }

// KeyErrorf returns a *KeyError for key with a formatted problem (%w
// wraps as in fmt.Errorf).
func KeyErrorf(key, format string, args ...any) error {
	return &KeyError{Key: key, Err: fmt.Errorf(format, args...)}
}
