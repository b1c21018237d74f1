// Package activity counts what happens per minute over the last hour, in
// memory, for the UI's charts: events received, and delivery outcomes per
// trigger. It keeps a fixed ring of minutes per series and a bounded
// number of series, so its memory does not grow with traffic.
package activity

import (
	"sync"
	"time"
)

// Minutes is the window kept: one bucket per minute.
const Minutes = 60

// MaxSeries bounds the series kept; past it new series are not counted.
const MaxSeries = 1024

// ring is one series: a count per minute, each slot stamped with its
// minute so that a stale slot reads as zero.
type ring struct {
	minute [Minutes]int64 // unix minute of the slot's count
	count  [Minutes]int
}

// Recorder counts events per series and minute. The zero value is not
// usable: call New. It is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	start  time.Time
	series map[string]*ring
}

// New returns a Recorder whose counts start at now.
func New(now time.Time) *Recorder {
	return &Recorder{start: now, series: map[string]*ring{}}
}

// Add counts one occurrence of series at time t.
func (r *Recorder) Add(series string, t time.Time) {
	m := t.Unix() / 60
	i := int(m % Minutes)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.series[series]
	if s == nil {
		if len(r.series) >= MaxSeries {
			return
		}
		s = &ring{}
		r.series[series] = s
	}
	if s.minute[i] != m {
		s.minute[i], s.count[i] = m, 0
	}
	s.count[i]++
}

// Window is the counts of the last hour: Start is the first minute, and
// each series has Minutes values, oldest first (the last is the current,
// partial minute). Since is when counting began: before it, zeros mean
// "not counted", not "nothing happened".
type Window struct {
	Start  time.Time
	Since  time.Time
	Series map[string][]int
}

// Last returns the counts of the named series (all when names is empty)
// for the hour up to now.
func (r *Recorder) Last(now time.Time, names ...string) Window {
	cur := now.Unix() / 60
	first := cur - Minutes + 1
	r.mu.Lock()
	defer r.mu.Unlock()
	w := Window{Start: time.Unix(first*60, 0).UTC(), Since: r.start, Series: map[string][]int{}}
	take := func(name string, s *ring) {
		v := make([]int, Minutes)
		for k := range Minutes {
			m := first + int64(k)
			if i := int(m % Minutes); s.minute[i] == m {
				v[k] = s.count[i]
			}
		}
		w.Series[name] = v
	}
	if len(names) == 0 {
		for name, s := range r.series {
			take(name, s)
		}
		return w
	}
	for _, name := range names {
		if s := r.series[name]; s != nil {
			take(name, s)
		} else {
			w.Series[name] = make([]int, Minutes)
		}
	}
	return w
}
