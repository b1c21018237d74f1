package all_test

import (
	"fmt"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/all"
)

// A forge without a hook API gets a client whose plan is a list of manual
// steps; the secret is never printed.
func ExampleNew() {
	c, err := all.New("dockerhub", hooks.Options{})
	if err != nil {
		panic(err)
	}
	ev, _ := c.Events([]string{"registry"})
	if m, ok := c.(hooks.Manual); ok {
		for _, s := range m.Steps(hooks.Target{Kind: hooks.TargetRepo, Name: "acme/app"},
			hooks.Spec{URL: "https://hooks.example.com/hooks/hub", Events: ev, Active: true, Secret: "s3cret"}) {
			fmt.Println(s)
		}
	}
	// Output:
	// Open https://hub.docker.com/repository/docker/acme/app/webhooks (Docker Hub has no API for repository webhooks).
	// Webhook name: forgehook
	// Webhook URL: https://hooks.example.com/hooks/hub?token=<the endpoint's first secret>
	// Docker Hub signs nothing: the token parameter and the endpoint's unguessable path are the only protection; keep the URL secret.
	// Create, then push an image tag to see a delivery arrive.
}
