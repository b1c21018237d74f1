package activity

import (
	"strconv"
	"testing"
	"time"
)

func TestActivityCountsPerMinuteOverTheLastHour(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 15, 0, 30, 0, time.UTC)
	r := New(t0)
	r.Add("events", t0)
	r.Add("events", t0.Add(10*time.Second))
	r.Add("events", t0.Add(5*time.Minute))
	r.Add("deploy/delivered", t0.Add(5*time.Minute))
	now := t0.Add(5*time.Minute + 10*time.Second)
	w := r.Last(now, "events", "deploy/dead")
	ev := w.Series["events"]
	if len(ev) != Minutes || ev[Minutes-1] != 1 || ev[Minutes-6] != 2 {
		t.Errorf("events per minute: last %d, 5 min ago %d: %v", ev[Minutes-1], ev[Minutes-6], ev)
	}
	if d := w.Series["deploy/dead"]; len(d) != Minutes || d[Minutes-1] != 0 {
		t.Errorf("an unknown series is not zeros")
	}
	if !w.Start.Equal(time.Date(2026, 12, 7, 14, 6, 0, 0, time.UTC)) || !w.Since.Equal(t0) {
		t.Errorf("start %v since %v", w.Start, w.Since)
	}
	// An hour later, the old counts are gone (the ring's slots are reused).
	later := now.Add(time.Hour)
	r.Add("events", later)
	ev = r.Last(later, "events").Series["events"]
	sum := 0
	for _, v := range ev {
		sum += v
	}
	if sum != 1 || ev[Minutes-1] != 1 {
		t.Errorf("after an hour: %v", ev)
	}
	if all := r.Last(later); len(all.Series) != 2 {
		t.Errorf("all series: %d", len(all.Series))
	}
}

func TestActivitySeriesAreBounded(t *testing.T) {
	now := time.Now()
	r := New(now)
	for i := range MaxSeries + 10 {
		r.Add(strconv.Itoa(i), now)
	}
	if n := len(r.Last(now).Series); n != MaxSeries {
		t.Errorf("%d series kept, want %d", n, MaxSeries)
	}
}
