//go:build race

package store

// raceEnabled reports a build with the race detector, which slows the
// embedded server about tenfold: the large tests use smaller stores.
const raceEnabled = true
