package event

import (
	"encoding/json"
	"fmt"
	"time"
)

// ArgoType returns the Argo Events event source type (its
// EventSourceType values) for a forge id: the forge's own source where
// Argo has one, else "webhook", Argo's generic webhook source.
func ArgoType(forge string) string {
	switch forge {
	case "github", "gitlab", "bitbucket", "gerrit":
		return forge
	case "bitbucket-server":
		return "bitbucketserver"
	}
	return "webhook"
}

// argoContext is the context of an Argo Events event.
type argoContext struct {
	ID              string `json:"id"`
	Source          string `json:"source"`
	SpecVersion     string `json:"specversion"`
	Type            string `json:"type"`
	DataContentType string `json:"datacontenttype"`
	Subject         string `json:"subject"`
	Time            string `json:"time"`
}

// argoData is the data of an Argo Events event of a webhook source: the
// request's headers and its JSON body.
type argoData struct {
	Header map[string][]string `json:"header"`
	Body   json.RawMessage     `json:"body"`
}

type argoEvent struct {
	Context argoContext `json:"context"`
	Data    argoData    `json:"data"`
}

// Argo returns e in the shape Argo Events gives its sensors and triggers:
// {"context": {id, source, specversion, type, datacontenttype, subject,
// time}, "data": {"header": ..., "body": ...}}, so that a sensor's
// parameter paths (body.ref, header.X-Github-Event) read the same values
// as from Argo's own event sources. The headers and body are the stored
// ones: credentials stay redacted. context.type is the forge's Argo event
// source type (ArgoType); context.source and context.subject are the
// endpoint (Argo's event source name and event name).
func Argo(e *Event) ([]byte, error) {
	body := e.Data.Body
	if len(body) == 0 || !json.Valid(body) {
		body = json.RawMessage("null")
	}
	header := e.Data.Header
	if header == nil {
		header = map[string][]string{}
	}
	b, err := json.Marshal(argoEvent{
		Context: argoContext{
			ID:              e.ID,
			Source:          e.Endpoint,
			SpecVersion:     "1.0",
			Type:            ArgoType(e.Forge),
			DataContentType: "application/json",
			Subject:         e.Endpoint,
			Time:            e.Time.UTC().Format(time.RFC3339),
		},
		Data: argoData{Header: header, Body: body},
	})
	if err != nil {
		return nil, fmt.Errorf("argo envelope of event %s: %w", e.ID, err)
	}
	return b, nil
}
