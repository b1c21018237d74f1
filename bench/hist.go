package main

import (
	"math"
	"math/bits"
	"time"
)

// histSub is log2 of the number of buckets per power of two: 128 buckets
// give a relative error below 0.8%.
const histSub = 7

// histBuckets covers every uint64 nanosecond count.
const histBuckets = (64 - histSub + 1) << histSub

// hist is a log-linear histogram of durations, with a fixed size whatever
// the number of samples. The zero value is empty and ready; it is not safe
// for concurrent use.
type hist struct {
	counts [histBuckets]uint64
	n      uint64
	max    time.Duration
}

func histIndex(v uint64) int {
	if v < 1<<(histSub+1) {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - histSub
	return (shift+1)<<histSub + int(v>>shift) - 1<<histSub
}

// histValue returns the middle of bucket i.
func histValue(i int) uint64 {
	if i < 1<<(histSub+1) {
		return uint64(i)
	}
	shift := i>>histSub - 1
	mant := uint64(i&(1<<histSub-1) + 1<<histSub)
	return mant<<shift + (uint64(1)<<shift)/2
}

// Record adds one sample.
func (h *hist) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[histIndex(uint64(d))]++
	h.n++
	h.max = max(h.max, d)
}

// Merge adds o's samples to h.
func (h *hist) Merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Count returns the number of samples.
func (h *hist) Count() uint64 { return h.n }

// Quantile returns the sample at quantile q (0 < q <= 1): the smallest
// recorded value that at least q of the samples do not exceed, to the
// bucket's precision. It returns 0 for an empty histogram.
func (h *hist) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank >= h.n {
		return h.max
	}
	rank = max(1, rank)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(histValue(i)), h.max)
		}
	}
	return h.max
}
