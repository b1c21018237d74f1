package eventindex

import (
	"encoding/binary"
	"slices"
	"sort"
)

// blockSize is the number of sequences a block holds before a new one
// starts. A block is self-contained (its first sequence is absolute), so
// that a seek decodes one block, and trimming drops whole blocks.
const blockSize = 128

// block is up to blockSize ascending sequences: first, then the uvarint
// deltas of the others in data.
type block struct {
	first, last uint64
	n           int32
	data        []byte
}

// postings is the ascending list of the stream sequences of one term.
// Sequences arrive in order (Add); outcomes may arrive out of order
// (insert), kept in extra until a merge re-encodes the tail they fall in.
type postings struct {
	blocks []block
	extra  []uint64 // ascending, each below blocks' last, not in blocks
}

func (p *postings) last() uint64 {
	if len(p.blocks) == 0 {
		return 0
	}
	return p.blocks[len(p.blocks)-1].last
}

// add appends seq, which must be above every sequence held.
func (p *postings) add(seq uint64) {
	k := len(p.blocks)
	if k == 0 || p.blocks[k-1].n == blockSize {
		p.blocks = append(p.blocks, block{first: seq, last: seq, n: 1})
		return
	}
	b := &p.blocks[k-1]
	b.data = binary.AppendUvarint(b.data, seq-b.last)
	b.last, b.n = seq, b.n+1
}

// maxExtra is how many out-of-order sequences wait before a merge.
const maxExtra = 256

// insert adds seq anywhere; it is idempotent.
func (p *postings) insert(seq uint64) {
	if seq > p.last() {
		p.add(seq)
		return
	}
	i, found := slices.BinarySearch(p.extra, seq)
	if found || p.contains(seq) {
		return
	}
	p.extra = slices.Insert(p.extra, i, seq)
	if len(p.extra) >= maxExtra {
		p.merge()
	}
}

func (p *postings) contains(seq uint64) bool {
	var buf [blockSize]uint64
	bi := p.blockLE(seq)
	if bi < 0 {
		return false
	}
	vs := p.blocks[bi].decode(buf[:0])
	_, found := slices.BinarySearch(vs, seq)
	return found
}

// merge re-encodes the blocks from the one the lowest extra falls in,
// with the extras. The old blocks are replaced, not changed: a snapshot
// holding them still reads what it copied.
func (p *postings) merge() {
	if len(p.extra) == 0 {
		return
	}
	from := max(p.blockLE(p.extra[0]), 0)
	var all []uint64
	var buf [blockSize]uint64
	for _, b := range p.blocks[from:] {
		all = append(all, b.decode(buf[:0])...)
	}
	all = append(all, p.extra...)
	slices.Sort(all)
	all = slices.Compact(all)
	p.blocks = slices.Clip(p.blocks[:from])
	p.extra = nil
	for _, s := range all {
		p.add(s)
	}
}

// blockLE returns the index of the last block whose first is <= seq, or -1.
func (p *postings) blockLE(seq uint64) int {
	return sort.Search(len(p.blocks), func(i int) bool { return p.blocks[i].first > seq }) - 1
}

// decode appends the block's sequences to dst.
func (b *block) decode(dst []uint64) []uint64 {
	dst = append(dst, b.first)
	v := b.first
	for i := 0; i < len(b.data); {
		d, n := binary.Uvarint(b.data[i:])
		if n <= 0 {
			break
		}
		i += n
		v += d
		dst = append(dst, v)
	}
	return dst
}

// trim drops the blocks wholly below first, and extras below it.
func (p *postings) trim(first uint64) {
	i := 0
	for i < len(p.blocks) && p.blocks[i].last < first {
		i++
	}
	if i > 0 {
		p.blocks = slices.Clone(p.blocks[i:])
	}
	j := 0
	for j < len(p.extra) && p.extra[j] < first {
		j++
	}
	if j > 0 {
		p.extra = slices.Clone(p.extra[j:])
	}
}

// countFrom returns how many sequences >= lo the list holds.
func (p *postings) countFrom(lo uint64) int {
	n := 0
	for _, s := range p.extra {
		if s >= lo {
			n++
		}
	}
	bi := max(p.blockLE(lo), 0)
	if bi >= len(p.blocks) {
		return n
	}
	var buf [blockSize]uint64
	for _, s := range p.blocks[bi].decode(buf[:0]) {
		if s >= lo {
			n++
		}
	}
	for _, b := range p.blocks[bi+1:] {
		n += int(b.n)
	}
	return n
}

// countRange returns how many sequences in [lo, hi] the list holds.
func (p *postings) countRange(lo, hi uint64) int {
	if hi < lo {
		return 0
	}
	n := p.countFrom(lo)
	if hi < ^uint64(0) {
		n -= p.countFrom(hi + 1)
	}
	return n
}

// bytes is the memory the list holds, roughly: its block headers and data.
func (p *postings) bytes() int {
	n := cap(p.blocks)*48 + cap(p.extra)*8
	for _, b := range p.blocks {
		n += cap(b.data)
	}
	return n
}

// snapshot returns a copy that later adds and merges do not change.
func (p *postings) snapshot() postings {
	bs := slices.Clone(p.blocks)
	for i := range bs {
		bs[i].data = bs[i].data[:len(bs[i].data):len(bs[i].data)]
	}
	return postings{blocks: bs, extra: slices.Clone(p.extra)}
}

// iter walks one postings list downwards: seekLE answers the largest
// sequence <= x. It caches the block it decoded last.
type iter struct {
	p     *postings
	bi    int // cached block, -1 none
	vals  []uint64
	buf   [blockSize]uint64
	empty bool
}

func newIter(p *postings) *iter {
	return &iter{p: p, bi: -1, empty: p == nil || (len(p.blocks) == 0 && len(p.extra) == 0)}
}

// seekLE returns the largest sequence <= x, or false when there is none.
func (it *iter) seekLE(x uint64) (uint64, bool) {
	if it.empty {
		return 0, false
	}
	var best uint64
	ok := false
	if e := it.p.extra; len(e) > 0 {
		i, found := slices.BinarySearch(e, x)
		if found {
			return x, true
		}
		if i > 0 {
			best, ok = e[i-1], true
		}
	}
	bi := it.p.blockLE(x)
	if bi < 0 {
		return best, ok
	}
	if bi != it.bi {
		it.vals = it.p.blocks[bi].decode(it.buf[:0])
		it.bi = bi
	}
	i, found := slices.BinarySearch(it.vals, x)
	var v uint64
	if found {
		v = x
	} else {
		v = it.vals[i-1] // i > 0: the block's first is <= x
	}
	if !ok || v > best {
		best = v
	}
	return best, true
}
