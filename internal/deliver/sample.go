package deliver

import (
	"sync"
	"time"
)

// evalWarnEvery is how often a trigger whose when fails on events logs
// it at warn: once, then at most once per interval, with the count of
// the lines held back since.
const evalWarnEvery = time.Minute

// sampler lets one log line through per evalWarnEvery and counts those
// it holds back. The zero value lets the first line through. It is safe
// for concurrent use (a trigger's two consumers call it).
type sampler struct {
	mu   sync.Mutex
	next time.Time // when the next line may go through
	held int       // lines held back since the last one
}

// allow reports whether a line may be logged at now, and how many were
// held back before it.
func (s *sampler) allow(now time.Time) (held int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.next) {
		s.held++
		return 0, false
	}
	held, s.held = s.held, 0
	s.next = now.Add(evalWarnEvery)
	return held, true
}
