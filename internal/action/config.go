package action

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"

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

// Decode fills out (a pointer to an action's config struct, with json
// tags) from a trigger's action block as the config loader keeps it.
// Unknown keys are errors naming the key; durations and secrets decode from
// their string forms (config.Duration, config.Secret).
func Decode(block map[string]any, out any) error {
	b, err := json.Marshal(block)
	if err != nil {
		return fmt.Errorf("encode block: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return fmt.Errorf("unknown key %s", f)
		}
		if strings.HasPrefix(msg, "json: cannot unmarshal ") {
			return fmt.Errorf("wrong type: %s", strings.TrimPrefix(msg, "json: "))
		}
		return err
	}
	return nil
}
