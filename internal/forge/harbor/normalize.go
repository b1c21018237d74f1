package harbor

import (
	"fmt"
	"strings"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
)

// kindAction is the canonical kind and action of a Harbor event.
type kindAction struct {
	kind   event.Kind
	action string
}

// events maps every event name Harbor sends, in both payload formats, to its
// kind and action: the Default-format types of Harbor 2.x
// (src/controller/event/topic.go), their CloudEvents types
// (src/pkg/notifier/formats/cloudevents.go), the chart types of Harbor 2.0
// to 2.7 and the camel-case types of Harbor 1.9 and 1.10
// (src/pkg/notification/model/const.go at v1.10.0).
var events = map[string]kindAction{
	"PUSH_ARTIFACT":          {event.KindRegistry, "pushed"},
	"harbor.artifact.pushed": {event.KindRegistry, "pushed"},
	"pushImage":              {event.KindRegistry, "pushed"},
	"UPLOAD_CHART":           {event.KindRegistry, "pushed"},
	"uploadChart":            {event.KindRegistry, "pushed"},

	"PULL_ARTIFACT":          {event.KindRegistry, "pulled"},
	"harbor.artifact.pulled": {event.KindRegistry, "pulled"},
	"pullImage":              {event.KindRegistry, "pulled"},
	"DOWNLOAD_CHART":         {event.KindRegistry, "pulled"},
	"downloadChart":          {event.KindRegistry, "pulled"},

	"DELETE_ARTIFACT":         {event.KindRegistry, "deleted"},
	"harbor.artifact.deleted": {event.KindRegistry, "deleted"},
	"deleteImage":             {event.KindRegistry, "deleted"},
	"DELETE_CHART":            {event.KindRegistry, "deleted"},
	"deleteChart":             {event.KindRegistry, "deleted"},

	"SCANNING_COMPLETED":    {event.KindPipeline, "completed"},
	"harbor.scan.completed": {event.KindPipeline, "completed"},
	"scanningCompleted":     {event.KindPipeline, "completed"},
	"SCANNING_FAILED":       {event.KindPipeline, "failed"},
	"harbor.scan.failed":    {event.KindPipeline, "failed"},
	"scanningFailed":        {event.KindPipeline, "failed"},
	"SCANNING_STOPPED":      {event.KindPipeline, "stopped"},
	"harbor.scan.stopped":   {event.KindPipeline, "stopped"},

	// The action of a replication is its job status, set by Normalize.
	"REPLICATION":                       {event.KindPipeline, ""},
	"harbor.replication.status.changed": {event.KindPipeline, ""},
	"TAG_RETENTION":                     {event.KindPipeline, "finished"},
	"harbor.tag_retention.finished":     {event.KindPipeline, "finished"},

	"QUOTA_EXCEED":          {event.KindOther, "exceeded"},
	"harbor.quota.exceeded": {event.KindOther, "exceeded"},
	"QUOTA_WARNING":         {event.KindOther, "warned"},
	"harbor.quota.warned":   {event.KindOther, "warned"},
	"projectQuota":          {event.KindOther, ""},
}

// classify returns the kind and action of an event name. Names missing from
// events follow Harbor's naming: a Default type ending in _ARTIFACT
// ("COPY_ARTIFACT") and a CloudEvents type "harbor.artifact.<verb>" are
// registry events whose action is the verb in lower case; anything else is
// other, without action.
func classify(name string) kindAction {
	if ka, ok := events[name]; ok {
		return ka
	}
	if verb, ok := strings.CutSuffix(name, "_ARTIFACT"); ok && verb != "" {
		return kindAction{event.KindRegistry, forge.LowerSnake(verb)}
	}
	if verb, ok := strings.CutPrefix(name, CloudEventsTypePrefix+"artifact."); ok && verb != "" {
		return kindAction{event.KindRegistry, forge.LowerSnake(verb)}
	}
	return kindAction{event.KindOther, ""}
}

// Normalize maps a Harbor payload, in either format, to the canonical
// fields. m.Event is the name InspectBody read; when it is empty the
// payload's own type is used. Normalize keeps no reference to payload.
//
// The event data is event_data (Default format), data (CloudEvents,
// structured mode) or the payload itself (binary mode). From it:
//
//   - kind and action: PUSH_ARTIFACT, PULL_ARTIFACT and DELETE_ARTIFACT
//     (and their CloudEvents, chart and Harbor 1.x names) are kind registry
//     with action pushed, pulled or deleted; SCANNING_COMPLETED, _FAILED and
//     _STOPPED are kind pipeline with action completed, failed or stopped;
//     REPLICATION is kind pipeline with the replication's job_status as
//     action ("success", "running", ...); TAG_RETENTION is kind pipeline,
//     action finished; QUOTA_EXCEED and QUOTA_WARNING are kind other with
//     action exceeded or warned; anything else is other;
//   - forgeaction is the replication's job_status or the retention's result
//     as sent, else empty;
//   - repository.full_name is repository.repo_full_name (else namespace/
//     name), .name is name, .owner is namespace (the Harbor project); a tag
//     retention names only its project, kept as the owner. Harbor sends no
//     web URL;
//   - tag is the first resource's tag that is a tag: Harbor puts the
//     digest in "tag" for an artifact pushed or pulled by digest, and a
//     digest ("sha256:...") is not one (OCI tags cannot contain ':').
//     ref stays empty: an image tag is not a git ref;
//   - registry is the first resource: image the repository's full name,
//     tag as above, digest and resource_url (set on every event with
//     resources, the scans' too);
//   - pipeline (scans, replications, tag retentions) is the job's kind as
//     name ("scanning", "replication", "tag_retention") and its status
//     from the event name, job_status or result; Harbor sends no commit,
//     ref or run URL;
//   - actor.login is operator (a user, a robot account, "auto" or
//     "MANUAL" as Harbor records it).
//
// The error, which wraps [forge.ErrBadPayload], is for a payload that is not a
// JSON object; a member of an unexpected type is ignored.
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	var b body
	if err := forge.DecodeObject(payload, &b); err != nil {
		return event.Fields{}, fmt.Errorf("harbor: %q payload: %w: %v", m.Event, forge.ErrBadPayload, err)
	}
	name := m.Event
	if name == "" {
		name = b.Type
	}
	d := &b.eventData
	switch {
	case b.EventData != nil:
		d = b.EventData
	case b.Data != nil:
		d = b.Data
	}
	ka := classify(name)
	f := event.Fields{
		Kind:       ka.kind,
		Action:     ka.action,
		Forge:      Name,
		Repository: d.Repository.fields(),
		Tag:        d.tag(),
		Actor:      event.Person{Login: b.Operator},
	}
	switch {
	case d.Replication.JobStatus != "" && f.Kind == event.KindPipeline && ka.action == "":
		f.Action = forge.LowerSnake(d.Replication.JobStatus)
		f.ForgeAction = d.Replication.JobStatus
	case d.Retention.Result != "":
		f.ForgeAction = d.Retention.Result
	}
	if f.Repository.Owner == "" {
		f.Repository.Owner = d.Retention.ProjectName
	}
	if len(d.Resources) > 0 || f.Kind == event.KindRegistry {
		f.Registry = d.registry(f.Repository.FullName, f.Tag)
	}
	if f.Kind == event.KindPipeline {
		f.Pipeline = pipeline(name, d)
	}
	return f, nil
}

// registry returns the artifact of the first resource: image is the
// repository's full name, tag the first tag that is not a digest, digest
// and URL the first resource's.
func (d *eventData) registry(image, tag string) event.Registry {
	r := event.Registry{Image: image, Tag: tag}
	if len(d.Resources) > 0 {
		r.Digest, r.URL = d.Resources[0].Digest, d.Resources[0].ResourceURL
		if r.Digest == "" && strings.HasPrefix(d.Resources[0].Tag, "sha256:") {
			r.Digest = d.Resources[0].Tag
		}
	}
	return r
}

// pipeline returns the scan, replication or tag retention run of a pipeline
// event named name: its kind of job as the name ("scanning", "replication",
// "tag_retention") and its status from the event name (scanning), the
// replication's job_status or the retention's result.
func pipeline(name string, d *eventData) event.Pipeline {
	var p event.Pipeline
	n := strings.ToUpper(name)
	switch {
	case strings.Contains(n, "SCANNING") || strings.Contains(n, "SCAN"):
		p.Name = "scanning"
		switch {
		case strings.Contains(n, "COMPLETED"):
			p.Status = event.StatusSuccess
		case strings.Contains(n, "FAILED"):
			p.Status = event.StatusFailure
		case strings.Contains(n, "STOPPED"):
			p.Status = event.StatusCancelled
		}
	case strings.Contains(n, "REPLICATION"):
		p.Name, p.Status = "replication", forge.PipelineStatus(d.Replication.JobStatus)
	case strings.Contains(n, "RETENTION"):
		p.Name, p.Status = "tag_retention", forge.PipelineStatus(d.Retention.Result)
	}
	return p
}

// body holds the parts of a Harbor payload that Normalize reads, for both
// formats at once: type, operator and event_data (Default), data
// (CloudEvents, structured mode), and the event data members themselves
// (binary mode, where the body is the data).
type body struct {
	Type      string     `json:"type"`
	Operator  string     `json:"operator"`
	EventData *eventData `json:"event_data"`
	Data      *eventData `json:"data"`
	eventData
}

// eventData is Harbor's model.EventData
// (src/pkg/notifier/model/event.go).
type eventData struct {
	Resources   []resource `json:"resources"`
	Repository  repository `json:"repository"`
	Replication struct {
		JobStatus string `json:"job_status"`
	} `json:"replication"`
	Retention struct {
		ProjectName string `json:"project_name"`
		Result      string `json:"result"`
	} `json:"retention"`
}

type resource struct {
	Digest      string `json:"digest"`
	Tag         string `json:"tag"`
	ResourceURL string `json:"resource_url"`
}

type repository struct {
	Name         string `json:"name"`
	Namespace    string `json:"namespace"`
	RepoFullName string `json:"repo_full_name"`
}

func (r *repository) fields() event.Repository {
	full := r.RepoFullName
	if full == "" && r.Namespace != "" && r.Name != "" {
		full = r.Namespace + "/" + r.Name
	}
	return event.Repository{FullName: full, Name: r.Name, Owner: r.Namespace}
}

// tag returns the first resource tag that is not a digest.
func (d *eventData) tag() string {
	for _, r := range d.Resources {
		if r.Tag != "" && !strings.Contains(r.Tag, ":") {
			return r.Tag
		}
	}
	return ""
}
