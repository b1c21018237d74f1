package eventindex

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// fileMagic starts an index file; the version is in its last bytes.
const fileMagic = "FHEVIX02"

// ErrDamaged means a file is not an index this version can read, or its
// checksum does not match: the store rebuilds the index from the stream.
var ErrDamaged = errors.New("event index file damaged or of another version")

// Save writes the index to path, replacing the file there only once the
// new one is complete and synced: the file always holds a whole index as
// of its Last sequence. It copies what it writes under the read lock and
// encodes it without the lock, so feeds and queries go on meanwhile.
// It returns whether anything had changed since the previous Save (when
// nothing had, it writes nothing).
func (ix *Index) Save(path string) (bool, error) {
	ix.mu.Lock()
	if !ix.changed {
		ix.mu.Unlock()
		return false, nil
	}
	enc := ix.encoder()
	ix.changed = false
	ix.mu.Unlock()
	if err := writeFile(path, enc); err != nil {
		ix.mu.Lock()
		ix.changed = true
		ix.mu.Unlock()
		return true, fmt.Errorf("event index %s: save: %w", path, err)
	}
	return true, nil
}

// encoder copies the index (under ix.mu, held by the caller) and returns
// the function that writes the copy.
func (ix *Index) encoder() func(w *bufio.Writer) error {
	for i := range ix.outcomes {
		ix.outcomes[i].merge()
	}
	ix.tried.merge()
	snap := struct {
		last, lastDel, attLast, first, count uint64
		marks                                []mark
		keys                                 []string
		terms                                []postings
		outcomes                             [nOutcomes]postings
		all, tried                           postings
	}{last: ix.last, lastDel: ix.lastDel, attLast: ix.attLast, first: ix.first, count: ix.count, marks: slices.Clone(ix.marks)}
	snap.keys = make([]string, 0, len(ix.terms))
	for k := range ix.terms {
		snap.keys = append(snap.keys, k)
	}
	slices.Sort(snap.keys)
	snap.terms = make([]postings, len(snap.keys))
	for i, k := range snap.keys {
		snap.terms[i] = ix.terms[k].snapshot()
	}
	for i := range ix.outcomes {
		snap.outcomes[i] = ix.outcomes[i].snapshot()
	}
	snap.all = ix.all.snapshot()
	snap.tried = ix.tried.snapshot()
	return func(w *bufio.Writer) error {
		var b []byte
		b = append(b, fileMagic...)
		for _, v := range []uint64{snap.last, snap.lastDel, snap.attLast, snap.first, snap.count, uint64(len(snap.marks))} {
			b = binary.AppendUvarint(b, v)
		}
		var pu int64
		var ps uint64
		for _, m := range snap.marks {
			b = binary.AppendVarint(b, m.unix-pu)
			b = binary.AppendUvarint(b, m.seq-ps)
			b = binary.AppendUvarint(b, m.count)
			pu, ps = m.unix, m.seq
		}
		b = binary.AppendUvarint(b, uint64(len(snap.keys)))
		if _, err := w.Write(b); err != nil {
			return err
		}
		for i, k := range snap.keys {
			b = binary.AppendUvarint(b[:0], uint64(len(k)))
			b = append(b, k...)
			b = appendPostings(b, &snap.terms[i])
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		b = b[:0]
		for i := range snap.outcomes {
			b = appendPostings(b, &snap.outcomes[i])
		}
		b = appendPostings(b, &snap.all)
		b = appendPostings(b, &snap.tried)
		_, err := w.Write(b)
		return err
	}
}

// encode returns the index's file bytes, checksum included.
func (ix *Index) encode() []byte {
	ix.mu.Lock()
	enc := ix.encoder()
	ix.mu.Unlock()
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	_ = enc(w)
	_ = w.Flush()
	return binary.LittleEndian.AppendUint32(buf.Bytes(), crc32.Checksum(buf.Bytes(), crc32.MakeTable(crc32.Castagnoli)))
}

func appendPostings(b []byte, p *postings) []byte {
	b = binary.AppendUvarint(b, uint64(len(p.blocks)))
	for _, bl := range p.blocks {
		b = binary.AppendUvarint(b, bl.first)
		b = binary.AppendUvarint(b, bl.last-bl.first)
		b = binary.AppendUvarint(b, uint64(bl.n))
		b = binary.AppendUvarint(b, uint64(len(bl.data)))
		b = append(b, bl.data...)
	}
	return b
}

// writeFile writes path through fill, with a CRC-32C of the content at
// its end, into a temporary file that replaces path once synced.
func writeFile(path string, fill func(*bufio.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // after the rename, a no-op
	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	w := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<20)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		_, err = f.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Load reads an index saved at path. A missing file is an error wrapping
// os.ErrNotExist; a damaged one wraps ErrDamaged.
func Load(path string) (*Index, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("event index %s: %w", path, err)
	}
	ix, err := decode(raw)
	if err != nil {
		return nil, fmt.Errorf("event index %s: %w", path, err)
	}
	return ix, nil
}

// decode reads an index file's bytes; any inconsistency is ErrDamaged.
func decode(raw []byte) (*Index, error) {
	if len(raw) < len(fileMagic)+4 || string(raw[:len(fileMagic)]) != fileMagic {
		return nil, ErrDamaged
	}
	body := raw[:len(raw)-4]
	if crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)) != binary.LittleEndian.Uint32(raw[len(raw)-4:]) {
		return nil, ErrDamaged
	}
	r := &reader{b: body[len(fileMagic):]}
	ix := New()
	ix.last, ix.lastDel, ix.attLast, ix.first, ix.count = r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint()
	if ix.lastDel > ix.last {
		return nil, ErrDamaged
	}
	nm := r.count(3)
	var pu int64
	var ps uint64
	for range nm {
		m := mark{unix: pu + r.varint(), seq: ps + r.uvarint(), count: r.uvarint()}
		if r.err != nil || (len(ix.marks) > 0 && (m.unix <= pu || m.seq <= ps)) {
			return nil, ErrDamaged
		}
		ix.marks = append(ix.marks, m)
		pu, ps = m.unix, m.seq
	}
	nt := r.count(2)
	prev := ""
	for range nt {
		k := string(r.bytes(r.count(1)))
		if r.err != nil || k <= prev && prev != "" {
			return nil, ErrDamaged
		}
		prev = k
		p, ok := r.postings(ix.last)
		if !ok {
			return nil, ErrDamaged
		}
		ix.terms[k] = p
	}
	for i := range ix.outcomes {
		p, ok := r.postings(^uint64(0))
		if !ok {
			return nil, ErrDamaged
		}
		ix.outcomes[i] = *p
	}
	all, ok := r.postings(ix.last)
	if !ok {
		return nil, ErrDamaged
	}
	ix.all = *all
	tried, ok := r.postings(^uint64(0))
	if !ok {
		return nil, ErrDamaged
	}
	ix.tried = *tried
	if r.err != nil || len(r.b) != 0 {
		return nil, ErrDamaged
	}
	return ix, nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = ErrDamaged
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = ErrDamaged
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a count of items of at least minBytes each, refusing one
// the rest of the input cannot hold.
func (r *reader) count(minBytes int) int {
	v := r.uvarint()
	if v > uint64(len(r.b)/minBytes) {
		r.err = ErrDamaged
		return 0
	}
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = ErrDamaged
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// postings reads one list, checking that its blocks ascend, hold what
// they claim and end at or below limit.
func (r *reader) postings(limit uint64) (*postings, bool) {
	nb := r.count(4)
	p := &postings{blocks: make([]block, 0, nb)}
	var prevLast uint64
	var buf [blockSize]uint64
	for i := range nb {
		first := r.uvarint()
		span := r.uvarint()
		n := r.uvarint()
		data := r.bytes(r.count(1))
		if r.err != nil || n == 0 || n > blockSize || (i > 0 && first <= prevLast) || first+span < first || first+span > limit {
			return nil, false
		}
		b := block{first: first, last: first + span, n: int32(n), data: slices.Clone(data)}
		vs := b.decode(buf[:0])
		if len(vs) != int(n) || vs[len(vs)-1] != b.last || !slices.IsSorted(vs) || hasRepeat(vs) {
			return nil, false
		}
		p.blocks = append(p.blocks, b)
		prevLast = b.last
	}
	return p, r.err == nil
}

func hasRepeat(vs []uint64) bool {
	for i := 1; i < len(vs); i++ {
		if vs[i] == vs[i-1] {
			return true
		}
	}
	return false
}
