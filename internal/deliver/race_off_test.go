//go:build !race

package deliver

// raceEnabled: the race detector slows every goroutine several times over.
const raceEnabled = false
