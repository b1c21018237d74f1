package ingest

import (
	"math/bits"
	"sync"
)

// The pooled buffer sizes: powers of two from 1 KiB to 256 KiB. A larger
// buffer (a big body or record) is allocated at its size and left to the
// garbage collector, so that a rare large delivery does not pin its memory
// in the pool.
const (
	minPooledShift = 10
	maxPooledShift = 18
	maxPooled      = 1 << maxPooledShift
)

// bufPool recycles the byte buffers of the ingest path (request body,
// encoded record, answer) in power-of-two size classes, so that a request
// gets a buffer that fits its announced size without taking one sized for
// the largest delivery seen. The zero value is ready; it is safe for
// concurrent use.
type bufPool struct {
	classes [maxPooledShift - minPooledShift + 1]sync.Pool // of *[]byte
}

// get returns a buffer of length 0 and capacity at least n: from the pool
// when n is at most maxPooled, else a new one of capacity n.
func (p *bufPool) get(n int) *[]byte {
	if n > maxPooled {
		b := make([]byte, 0, n)
		return &b
	}
	k := 0
	if n > 1<<minPooledShift {
		k = bits.Len(uint(n-1)) - minPooledShift
	}
	if v := p.classes[k].Get(); v != nil {
		bp := v.(*[]byte)
		*bp = (*bp)[:0]
		return bp
	}
	b := make([]byte, 0, 1<<(k+minPooledShift))
	return &b
}

// put gives *bp back to the pool (it is dropped when its capacity is
// outside the pooled sizes). The caller must hold no reference into its
// array any more, nor have handed one to anything that may still read it.
func (p *bufPool) put(bp *[]byte) {
	c := cap(*bp)
	if c < 1<<minPooledShift || c > maxPooled {
		return
	}
	// The class whose size c reaches: every buffer there has room for it.
	p.classes[bits.Len(uint(c))-1-minPooledShift].Put(bp)
}
