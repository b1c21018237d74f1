package actiontest

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/config"
)

// Build decodes block, an action's block written as Go values (as it
// would be in the YAML file), with package config's decoder into a T (one
// of config.HTTPAction, ExecAction, NATSAction, LogAction: defaults
// applied, checked), and builds the action with newAction. Every problem
// comes back as one error "key: message", the key relative to the block,
// whether config or the action found it: tests of an action see what a
// user would, through the same path.
func Build[T any](block map[string]any, env action.Env, newAction func(*T, action.Env) (action.Action, error)) (action.Action, error) {
	text := []byte("{}")
	if block != nil {
		var err error
		if text, err = yaml.Marshal(block); err != nil {
			return nil, fmt.Errorf("actiontest: encode block: %w", err)
		}
	}
	c := new(T)
	if err := config.DecodeBlock("", text, c, config.Options{}); err != nil {
		var fes config.Errors
		if errors.As(err, &fes) {
			msgs := make([]string, len(fes))
			for i, fe := range fes {
				msgs[i] = fe.Field + ": " + fe.Msg
			}
			return nil, errors.New(strings.Join(msgs, "\n"))
		}
		return nil, err
	}
	return newAction(c, env)
}
