package event

import "testing"

func TestEventEnvelopeTypes(t *testing.T) {
	for _, k := range append(Kinds, "custom", "") {
		ev := &Event{Endpoint: "ep", Data: Data{Normalized: Fields{Kind: k}}}
		ev.Envelope()
		if want := TypePrefix + string(k); ev.Type != want {
			t.Errorf("kind %q: type %q, want %q", k, ev.Type, want)
		}
	}
	// A canonical kind's type is a constant: an event with a repository URL
	// and no subject is enveloped without allocating.
	for _, k := range Kinds {
		ev := &Event{Data: Data{Normalized: Fields{Kind: k, Repository: Repository{URL: "https://example.com/r"}}}}
		if n := testing.AllocsPerRun(10, ev.Envelope); n != 0 {
			t.Errorf("Envelope of kind %q: %v allocations, want 0 (does typeOf have its case?)", k, n)
		}
	}
}
