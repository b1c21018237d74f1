package ingest

import (
	"errors"
	"net/http"

	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// httpError is a failed request: Status and Reason go to the client, Err
// (which may carry more detail, never a secret) goes to the log.
type httpError struct {
	Status int
	Reason string
	Err    error
}

func (e *httpError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *httpError) Unwrap() error { return e.Err }

func fail(status int, reason string, err error) *httpError {
	return &httpError{Status: status, Reason: reason, Err: err}
}

// classify maps an error from any ingest step to its HTTP status and the
// reason the client sees. It is the one place where errors become statuses.
func classify(err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return fail(http.StatusRequestEntityTooLarge, "body too large", err)
	case errors.Is(err, errBusy):
		return fail(http.StatusServiceUnavailable, "server busy, try again", err)
	case errors.Is(err, verify.ErrAddressNotAllowed):
		return fail(http.StatusForbidden, "source address not allowed", err)
	case errors.Is(err, verify.ErrMissingSignature):
		return fail(http.StatusUnauthorized, "missing signature or token", err)
	case errors.Is(err, verify.ErrStale):
		return fail(http.StatusUnauthorized, "signature timestamp outside tolerance", err)
	case errors.Is(err, verify.ErrBadSignature):
		return fail(http.StatusUnauthorized, "invalid signature or token", err)
	case errors.Is(err, verify.ErrNoSecret):
		return fail(http.StatusUnauthorized, "endpoint has no secret", err)
	case errors.Is(err, forge.ErrNotRecognized):
		return fail(http.StatusBadRequest, "not a delivery of this endpoint's forge", err)
	case errors.Is(err, forge.ErrBadPayload):
		return fail(http.StatusBadRequest, "malformed payload", err)
	}
	return fail(http.StatusInternalServerError, "internal error", err)
}

// StatusOf returns the HTTP status ingest answers for an error of any
// ingest step (200 for nil). Provider tests assert their errors' statuses
// through it, so that there is one mapping.
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return classify(err).Status
}
