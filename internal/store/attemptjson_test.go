package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func checkAttemptJSON(t *testing.T, a Attempt) {
	t.Helper()
	want, werr := json.Marshal(a)
	got, gerr := a.appendJSON(nil)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%+v: json.Marshal error %v, appendJSON error %v", a, werr, gerr)
	}
	if werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("%+v:\nappendJSON   %s\njson.Marshal %s", a, got, want)
	}
}

func TestAttemptJSONMatchesEncodingJSON(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	now := time.Now()
	for _, a := range []Attempt{
		{},
		{Trigger: "deploy", EventID: "0d4f6a2e-1b9c-4e8a-9a53-2f6b0d1c7e11", Attempt: 1, Time: now, Duration: 1234567, Outcome: OutcomeDelivered, Status: 200},
		{Trigger: "t", EventID: "e", Attempt: 3, Time: now.In(paris), Outcome: OutcomeFailed, Status: 503,
			Error: `POST https://x/y: 503 <html> & "quotes" \ back`, Output: "line1\nline2\t\u2028\x00\xff é",
			NextAttempt: now.Add(time.Minute).UTC(), Replay: true},
		{Trigger: "t", EventID: "e", Time: time.Date(2026, 11, 23, 8, 25, 20, 0, time.UTC), Outcome: OutcomeDead, Status: -1, Duration: -5},
		{Trigger: "t", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},                // out of JSON's range
		{Trigger: "t", Time: now, NextAttempt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}, // likewise
	} {
		checkAttemptJSON(t, a)
	}
}

func FuzzAttemptJSON(f *testing.F) {
	f.Add("deploy", "id-1", 2, int64(1700000000), int64(123), "delivered", 200, "", "", int64(0), false)
	f.Add("t<", "é\x00", -1, int64(-62135596800), int64(-1), "failed", 0, "a&b", "\u2028\xff", int64(1700000060), true)
	f.Fuzz(func(t *testing.T, trigger, id string, attempt int, sec, dur int64, outcome string, status int, errText, output string, next int64, replay bool) {
		a := Attempt{
			Trigger: trigger, EventID: id, Attempt: attempt, Time: time.Unix(sec, dur%1e9).UTC(),
			Duration: time.Duration(dur), Outcome: outcome, Status: status, Error: errText, Output: output, Replay: replay,
		}
		if next != 0 {
			a.NextAttempt = time.Unix(next, 0).In(time.FixedZone("", int(dur%86400)/60*60))
		}
		checkAttemptJSON(t, a)
	})
}
