package store

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// index is a hash table on disk that maps a 64-bit key hash to the stream
// sequences of the events stored under that key, for a bounded time. It is
// forgehook's dedup index (delivery key -> event) and its id index (event id
// -> event): JetStream's own per-subject and Nats-Msg-Id state would hold
// about 160 bytes of memory per remembered delivery, which a 72 h window at
// load cannot afford, while this table keeps only its file header in memory
// and lets the kernel's page cache hold the hot slots.
//
// The table uses open addressing with linear probing over fixed 24-byte
// slots (hash, sequence, unix time), read and written with pread/pwrite.
// An entry older than the table's window is ignored by lookups and reused
// by inserts. A hash match is only a candidate: callers confirm it against
// the stored message, so a collision can never make two deliveries one.
// The table doubles when it is 70% full, dropping expired entries.
type index struct {
	mu     sync.Mutex // guards everything below
	path   string
	f      *os.File
	cap    uint64 // slots, a power of two
	used   uint64 // non-empty slots
	window time.Duration
	last   uint64 // highest stream sequence inserted
}

const (
	indexMagic   = "FHIDX001"
	indexHeader  = 64
	slotSize     = 24
	probeChunk   = 16 // slots read per pread while probing
	minIndexCap  = 1 << 16
	maxLoadRatio = 0.7
)

// keyHash is the 64-bit hash of a key; 0 is reserved for empty slots.
func keyHash(key string) uint64 {
	sum := sha256.Sum256([]byte(key))
	h := binary.LittleEndian.Uint64(sum[:8])
	if h == 0 {
		h = 1
	}
	return h
}

// openIndex opens or creates the table at path.
func openIndex(path string, window time.Duration) (*index, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", path, err)
	}
	ix := &index{path: path, f: f, window: window}
	var hdr [indexHeader]byte
	n, err := f.ReadAt(hdr[:], 0)
	switch {
	case n == indexHeader && string(hdr[:8]) == indexMagic:
		ix.cap = binary.LittleEndian.Uint64(hdr[8:])
		ix.used = binary.LittleEndian.Uint64(hdr[16:])
		ix.last = binary.LittleEndian.Uint64(hdr[24:])
		st, err := f.Stat()
		if err != nil || ix.cap < minIndexCap || ix.cap&(ix.cap-1) != 0 || st.Size() < int64(indexHeader+ix.cap*slotSize) {
			f.Close()
			return nil, fmt.Errorf("index %s: damaged (remove it to rebuild it from the stream)", path)
		}
	case n == 0 && (err == nil || errors.Is(err, io.EOF)):
		if err := ix.create(f, minIndexCap); err != nil {
			f.Close()
			return nil, err
		}
	default:
		f.Close()
		return nil, fmt.Errorf("index %s: not an index file (remove it to rebuild it from the stream)", path)
	}
	return ix, nil
}

func (ix *index) create(f *os.File, capacity uint64) error {
	if err := f.Truncate(int64(indexHeader + capacity*slotSize)); err != nil {
		return fmt.Errorf("index %s: %w", ix.path, err)
	}
	ix.f, ix.cap, ix.used = f, capacity, 0
	return ix.writeHeader()
}

func (ix *index) writeHeader() error {
	var hdr [indexHeader]byte
	copy(hdr[:], indexMagic)
	binary.LittleEndian.PutUint64(hdr[8:], ix.cap)
	binary.LittleEndian.PutUint64(hdr[16:], ix.used)
	binary.LittleEndian.PutUint64(hdr[24:], ix.last)
	if _, err := ix.f.WriteAt(hdr[:], 0); err != nil {
		return fmt.Errorf("index %s: %w", ix.path, err)
	}
	return nil
}

// Last returns the highest stream sequence inserted.
func (ix *index) Last() uint64 {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.last
}

func (ix *index) live(t int64, now time.Time) bool {
	return ix.window <= 0 || now.Sub(time.Unix(t, 0)) <= ix.window
}

// Lookup returns the sequences of live entries whose hash is h.
func (ix *index) Lookup(h uint64, now time.Time) ([]uint64, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var out []uint64
	var buf [probeChunk * slotSize]byte
	mask := ix.cap - 1
	pos := h & mask
	for scanned := uint64(0); scanned < ix.cap; {
		n := min(probeChunk, ix.cap-pos)
		b := buf[:n*slotSize]
		if _, err := ix.f.ReadAt(b, int64(indexHeader+pos*slotSize)); err != nil {
			return nil, fmt.Errorf("index %s: read: %w", ix.path, err)
		}
		for i := uint64(0); i < n; i++ {
			s := b[i*slotSize:]
			sh := binary.LittleEndian.Uint64(s)
			if sh == 0 {
				return out, nil
			}
			if sh == h && ix.live(int64(binary.LittleEndian.Uint64(s[16:])), now) {
				out = append(out, binary.LittleEndian.Uint64(s[8:]))
			}
		}
		scanned += n
		pos = (pos + n) & mask
	}
	return out, nil
}

// Insert records that the event at seq, stored at t, has key hash h. It is
// idempotent: inserting the same (h, seq) twice keeps one entry.
func (ix *index) Insert(h, seq uint64, t time.Time) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if float64(ix.used+1) > maxLoadRatio*float64(ix.cap) {
		if err := ix.grow(t); err != nil {
			return err
		}
	}
	if err := ix.insertLocked(h, seq, t.Unix(), t); err != nil {
		return err
	}
	if seq > ix.last {
		ix.last = seq
		// The header is rewritten every 1024 sequences and on close; after
		// a crash the tail re-inserts from the older position, which is
		// harmless because inserts are idempotent.
		if seq%1024 == 0 {
			return ix.writeHeader()
		}
	}
	return nil
}

func (ix *index) insertLocked(h, seq uint64, ts int64, now time.Time) error {
	var buf [probeChunk * slotSize]byte
	mask := ix.cap - 1
	pos := h & mask
	reuse := int64(-1) // first expired slot seen
	for scanned := uint64(0); scanned < ix.cap; {
		n := min(probeChunk, ix.cap-pos)
		b := buf[:n*slotSize]
		if _, err := ix.f.ReadAt(b, int64(indexHeader+pos*slotSize)); err != nil {
			return fmt.Errorf("index %s: read: %w", ix.path, err)
		}
		for i := uint64(0); i < n; i++ {
			s := b[i*slotSize:]
			sh := binary.LittleEndian.Uint64(s)
			slot := (pos + i) & mask
			switch {
			case sh == 0:
				target := slot
				if reuse >= 0 {
					target = uint64(reuse)
				} else {
					ix.used++
				}
				return ix.writeSlot(target, h, seq, ts)
			case sh == h && binary.LittleEndian.Uint64(s[8:]) == seq:
				return nil
			case reuse < 0 && !ix.live(int64(binary.LittleEndian.Uint64(s[16:])), now):
				reuse = int64(slot)
			}
		}
		scanned += n
		pos = (pos + n) & mask
	}
	if reuse >= 0 {
		return ix.writeSlot(uint64(reuse), h, seq, ts)
	}
	return fmt.Errorf("index %s: full", ix.path)
}

func (ix *index) writeSlot(slot, h, seq uint64, ts int64) error {
	var s [slotSize]byte
	binary.LittleEndian.PutUint64(s[:], h)
	binary.LittleEndian.PutUint64(s[8:], seq)
	binary.LittleEndian.PutUint64(s[16:], uint64(ts))
	if _, err := ix.f.WriteAt(s[:], int64(indexHeader+slot*slotSize)); err != nil {
		return fmt.Errorf("index %s: write: %w", ix.path, err)
	}
	return nil
}

// grow rewrites the table with twice the slots (or the same, when dropping
// expired entries frees enough), keeping only live entries. The new table
// is built in memory and written with one write: re-inserting entry by
// entry cost a pread and a pwrite each, seconds of stall under the lock at
// half a million entries. The buffer (24 bytes a slot) is transient.
func (ix *index) grow(now time.Time) error {
	type entry struct {
		h, seq uint64
		ts     int64
	}
	var live []entry
	const chunk = 4096
	buf := make([]byte, chunk*slotSize)
	for pos := uint64(0); pos < ix.cap; pos += chunk {
		n := min(chunk, ix.cap-pos)
		b := buf[:n*slotSize]
		if _, err := ix.f.ReadAt(b, int64(indexHeader+pos*slotSize)); err != nil {
			return fmt.Errorf("index %s: read: %w", ix.path, err)
		}
		for i := uint64(0); i < n; i++ {
			s := b[i*slotSize:]
			h := binary.LittleEndian.Uint64(s)
			ts := int64(binary.LittleEndian.Uint64(s[16:]))
			if h != 0 && ix.live(ts, now) {
				live = append(live, entry{h, binary.LittleEndian.Uint64(s[8:]), ts})
			}
		}
	}
	newCap := ix.cap
	for float64(len(live)+1) > maxLoadRatio/2*float64(newCap) {
		newCap *= 2
	}
	table := make([]byte, newCap*slotSize)
	mask := newCap - 1
	for _, e := range live {
		pos := e.h & mask
		for binary.LittleEndian.Uint64(table[pos*slotSize:]) != 0 {
			pos = (pos + 1) & mask
		}
		s := table[pos*slotSize:]
		binary.LittleEndian.PutUint64(s, e.h)
		binary.LittleEndian.PutUint64(s[8:], e.seq)
		binary.LittleEndian.PutUint64(s[16:], uint64(e.ts))
	}
	tmp := ix.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("index %s: grow: %w", ix.path, err)
	}
	old, oldCap, oldUsed := ix.f, ix.cap, ix.used
	fail := func(err error) error {
		// Keep serving from the old table; the next insert tries again.
		f.Close()
		os.Remove(tmp)
		ix.f, ix.cap, ix.used = old, oldCap, oldUsed
		return err
	}
	if err := ix.create(f, newCap); err != nil {
		return fail(err)
	}
	if _, err := f.WriteAt(table, indexHeader); err != nil {
		return fail(fmt.Errorf("index %s: grow: %w", ix.path, err))
	}
	ix.used = uint64(len(live))
	if err := ix.writeHeader(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, ix.path); err != nil {
		return fail(fmt.Errorf("index %s: grow: %w", ix.path, err))
	}
	old.Close()
	return nil
}

// Close writes the header and closes the file.
func (ix *index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.f == nil {
		return nil
	}
	err := ix.writeHeader()
	if cerr := ix.f.Close(); err == nil {
		err = cerr
	}
	ix.f = nil
	return err
}
