// Package seqindex is the store's on-disk index: a hash table in a file
// that maps the 64-bit hash of a key to the stream sequences stored under
// it, for a bounded time. The store keeps three: dedup.idx (delivery key ->
// EVENTS sequence, for the dedup window), ids.idx (event id -> EVENTS
// sequence) and attempts.idx (trigger and event id -> ATTEMPTS sequences),
// in data_dir/index.
//
// It exists because JetStream's own per-subject and Nats-Msg-Id state
// holds about 160 bytes of memory per remembered delivery, which a 72 h
// window at load cannot afford, while this table keeps only its recent
// inserts in memory and lets the kernel's page cache hold the hot slots.
//
// # Measured trade-offs
//
// Figures from a 2-core machine (the StoreIndex benchmarks of this package,
// docs/benchmarks.md; go run ./bench/dedupmem for the store as a whole,
// docs/operations.md, "Deduplication and its memory"):
//
//   - Disk: 24 bytes a slot, and a table has 1/0.7 to 2/0.7 slots per live
//     entry (it doubles at 70% full): 34 to 69 bytes per entry, 48 MiB for
//     a million entries. Expired entries cost nothing more: a grow drops
//     them and an insert reuses their slots.
//   - Memory: only the inserts not merged yet, about 70 bytes each (a
//     32-byte entry and its share of the memtable's hash map; measured
//     over 65 536), at most a 32nd of the table's slots (at least 4096)
//     before a merge starts, and twice that while one runs: 65 536 for a
//     table of a million entries, 4.5 MiB. While merges keep failing (a
//     full disk) the memtable grows up to maxPending, 4 Mi inserts (about
//     280 MiB), and inserts fail past it. A million deliveries stored
//     through the store cost 60 MiB of resident memory in all (63 bytes
//     each, most of it JetStream's own per-message state), against
//     156 MiB for JetStream's Nats-Msg-Id window and 146 MiB for a KV
//     bucket with a key per delivery.
//   - Lookups: a map probe of the memtables, then one pread of 16 slots
//     (384 bytes) in the common case, served by the page cache: 1.06 µs
//     for a hit and 1.16 µs for a miss in a table of 100 000 entries, one
//     small allocation each. A candidate is only a hash match: the caller
//     reads the stream to confirm it, and that read, not the index, is the
//     cost of a duplicate.
//   - Inserts: 0.49 µs each, the merges into the file and the grows
//     included: a map insert under a mutex, then a merge writes a batch in
//     24 KiB chunks, a few system calls per thousand inserts. A pwrite per
//     insert had cost 6 µs each, 10% of the ingest path's CPU.
//   - Durability: the memtables are lost with the process. The header
//     records the highest sequence merged (Last after Open), and the store
//     indexes its streams again from a little before it at start-up.
package seqindex

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Index is one hash table on disk (see the package comment). Its methods
// are safe for concurrent use; Close must be the last call.
//
// The file is a table with open addressing and linear probing over fixed
// 24-byte slots (hash, sequence, unix time). An entry older than the
// table's window is ignored by lookups and reused by inserts. A hash match
// is only a candidate: callers confirm it against the stored message, so a
// collision can never make two deliveries one. The table doubles when it
// is 70% full, dropping expired entries.
//
// Inserts go to a table in memory (the memtable) and a background merge
// writes them into the file in batches, chunk by chunk. Lookups read the
// memtables and then the file.
//
// # Locks
//
// An Index holds three mutexes, and one lock-free field:
//
//   - mergeMu serializes merges, grows and Close, and guards the merger's
//     own state (used, durable, lastMerge). It is held for a whole merge,
//     file I/O included, so it is never taken on the insert or lookup path.
//   - mu guards the memtables (mem, frozen) and last. It is held only for
//     in-memory work: a map insert, a chain walk, a pointer swap.
//   - fmu (a RWMutex) guards f and cap, which only a grow swaps. Lookups
//     hold its read lock while they pread the file; a grow (under mergeMu)
//     takes its write lock for the swap only, and Close to close the file.
//   - mergeAt is atomic: Insert reads it to decide whether to wake the
//     merger, without a lock.
//
// The order is mergeMu, then mu, then fmu: a goroutine that holds one may
// take only a later one. Merge takes mu (briefly, released each time)
// under mergeMu, and grow takes fmu under mergeMu; Insert and Last take
// mu alone; Lookup takes mu, releases it, then takes fmu's read lock, so
// it never holds two; Close waits for the merger's goroutine with no lock
// held and then takes mergeMu and fmu in that order. No path takes mu and
// fmu together, no path takes an earlier lock while it holds a later one,
// and no lock is held across a channel operation that can block (the
// merger's wake-up is a non-blocking send), so no cycle of waits can form:
// the index cannot deadlock. The one wait under a lock is file I/O (merges
// under mergeMu, lookups under fmu's read lock), which a grow's swap waits
// for; a grow's rewrite runs before it takes fmu, so lookups go on during
// it. Scan holds mergeMu while it calls its callback, which may therefore
// insert and look up but not Close.
type Index struct {
	path   string
	window time.Duration
	// log reports a failed background merge (it is retried).
	log *slog.Logger

	mu     sync.Mutex // guards mem, frozen and last
	mem    *memtable  // inserts not yet merged
	frozen *memtable  // inserts being merged, nil between merges; read-only
	last   uint64     // highest stream sequence inserted

	// mergeAt is the memtable's size that starts a merge (a 32nd of the
	// table's slots, at least minMergeAt).
	mergeAt atomic.Int64
	kick    chan struct{}
	done    chan struct{}
	stopped chan struct{}

	// mergeMu serializes merges; the fields below it are written by the
	// merging goroutine only, and read by it.
	mergeMu   sync.Mutex
	used      uint64    // non-empty slots of the file's table
	durable   uint64    // highest sequence merged: the header's
	lastMerge time.Time // when the last merge ended

	// fmu guards f and cap, which a grow swaps: lookups read the file
	// under its read lock. They are written with both mergeMu and fmu
	// held, so the merger reads them under mergeMu alone.
	fmu sync.RWMutex
	f   *os.File
	cap uint64 // slots, a power of two
}

const (
	indexMagic   = "FHIDX001"
	indexHeader  = 64
	slotSize     = 24
	probeChunk   = 16 // slots read per pread while probing
	minIndexCap  = 1 << 16
	maxLoadRatio = 0.7

	// chunkSlots is the unit a merge reads and writes: 1024 slots, 24 KiB.
	chunkSlots = 1024
	// minMergeAt is the smallest memtable that starts a merge by its size.
	minMergeAt = 4096
	// mergeEvery is how often the merger looks at the memtable; it merges
	// a smaller one once it is mergeAge old.
	mergeEvery = time.Second
	mergeAge   = 5 * time.Second
	// maxPending bounds the memtable when merges keep failing (a full
	// or broken disk): further inserts fail, to be indexed again by the
	// tail at the next start.
	maxPending = 4 << 20
)

// Hash is the 64-bit hash of a key that Insert and Lookup take: the first
// 8 bytes of its SHA-256, little-endian; never 0, which marks an empty
// slot. It is part of the file format: changing it orphans every entry.
func Hash(key string) uint64 {
	sum := sha256.Sum256([]byte(key))
	h := binary.LittleEndian.Uint64(sum[:8])
	if h == 0 {
		h = 1
	}
	return h
}

// Open opens or creates the table at path, whose entries live for window
// (0: for ever), and starts its merger, which reports failures to log
// (nil: nowhere); Close stops it. A file that is not an index, or a
// damaged one, is an error that says to remove it: the store rebuilds a
// missing index from its streams.
func Open(path string, window time.Duration, log *slog.Logger) (*Index, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", path, err)
	}
	ix := &Index{path: path, f: f, window: window, log: log}
	var hdr [indexHeader]byte
	n, err := f.ReadAt(hdr[:], 0)
	switch {
	case n == indexHeader && string(hdr[:8]) == indexMagic:
		ix.cap = binary.LittleEndian.Uint64(hdr[8:])
		ix.used = binary.LittleEndian.Uint64(hdr[16:])
		ix.durable = binary.LittleEndian.Uint64(hdr[24:])
		st, err := f.Stat()
		if err != nil || ix.cap < minIndexCap || ix.cap&(ix.cap-1) != 0 || st.Size() < int64(indexHeader+ix.cap*slotSize) {
			f.Close()
			return nil, fmt.Errorf("index %s: damaged (remove it to rebuild it from the stream)", path)
		}
	case n == 0 && (err == nil || errors.Is(err, io.EOF)):
		ix.cap = minIndexCap
		if err := f.Truncate(int64(indexHeader + ix.cap*slotSize)); err != nil {
			f.Close()
			return nil, fmt.Errorf("index %s: %w", path, err)
		}
		if err := ix.writeHeader(); err != nil {
			f.Close()
			return nil, err
		}
	default:
		f.Close()
		return nil, fmt.Errorf("index %s: not an index file (remove it to rebuild it from the stream)", path)
	}
	ix.last = ix.durable
	ix.mem = newMemtable(minMergeAt)
	ix.setMergeAt()
	ix.lastMerge = time.Now()
	ix.kick = make(chan struct{}, 1)
	ix.done = make(chan struct{})
	ix.stopped = make(chan struct{})
	go ix.loop()
	return ix, nil
}

// writeHeader writes the table's header; the merger's (or the opener's).
func (ix *Index) writeHeader() error {
	var hdr [indexHeader]byte
	copy(hdr[:], indexMagic)
	binary.LittleEndian.PutUint64(hdr[8:], ix.cap)
	binary.LittleEndian.PutUint64(hdr[16:], ix.used)
	binary.LittleEndian.PutUint64(hdr[24:], ix.durable)
	if _, err := ix.f.WriteAt(hdr[:], 0); err != nil {
		return fmt.Errorf("index %s: %w", ix.path, err)
	}
	return nil
}

func (ix *Index) setMergeAt() {
	ix.mergeAt.Store(int64(max(minMergeAt, ix.cap/32)))
}

// Last returns the highest stream sequence inserted (at open: merged).
func (ix *Index) Last() uint64 {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.last
}

func (ix *Index) live(t int64, now time.Time) bool {
	return ix.window <= 0 || now.Sub(time.Unix(t, 0)) <= ix.window
}

// Lookup returns the sequences of the live entries whose hash is h: those
// stored within the window before now, in no set order, without repeats.
// Each is only a candidate (another key may share the hash), which the
// caller confirms against the stored message. Lookup sees every Insert
// that returned before it was called. An error is a failed read of the
// file.
func (ix *Index) Lookup(h uint64, now time.Time) ([]uint64, error) {
	var out []uint64
	ix.mu.Lock()
	out = ix.mem.lookup(h, out, ix, now)
	if ix.frozen != nil {
		out = ix.frozen.lookup(h, out, ix, now)
	}
	ix.mu.Unlock()

	// A merge may be writing the slots read here. That is safe without a
	// lock: it writes only empty or expired slots (and unchanged bytes
	// around them), a lookup that reads a slot's old bytes finds what the
	// frozen memtable above holds, and a torn read yields at worst a
	// candidate that the caller's confirmation rejects.
	ix.fmu.RLock()
	defer ix.fmu.RUnlock()
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
				if seq := binary.LittleEndian.Uint64(s[8:]); !slices.Contains(out, seq) {
					out = append(out, seq)
				}
			}
		}
		scanned += n
		pos = (pos + n) & mask
	}
	return out, nil
}

// Insert records that the event at seq, stored at t, has key hash h. It is
// idempotent: inserting the same (h, seq) twice keeps one entry. The entry
// is visible to Lookup at once and written to the file by a later merge.
// It fails only when merges keep failing (a full or broken disk) and
// maxPending inserts wait in memory: the caller loses nothing by going
// on, as the store indexes its streams again at the next start.
func (ix *Index) Insert(h, seq uint64, t time.Time) error {
	ix.mu.Lock()
	n := len(ix.mem.entries)
	if n >= maxPending {
		ix.mu.Unlock()
		return fmt.Errorf("index %s: %d inserts wait for a merge", ix.path, n)
	}
	ix.mem.add(h, seq, t.Unix())
	ix.last = max(ix.last, seq)
	n = len(ix.mem.entries)
	ix.mu.Unlock()
	if int64(n) >= ix.mergeAt.Load() {
		select {
		case ix.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// loop merges the memtable when it is large enough or old enough.
func (ix *Index) loop() {
	defer close(ix.stopped)
	t := time.NewTicker(mergeEvery)
	defer t.Stop()
	lastErr := "" // a failing merge is logged when its error changes
	for {
		select {
		case <-ix.done:
			return
		case <-ix.kick:
		case <-t.C:
			ix.mu.Lock()
			n := len(ix.mem.entries)
			ix.mu.Unlock()
			if n == 0 || (int64(n) < ix.mergeAt.Load() && time.Since(ix.lastMergeTime()) < mergeAge) {
				continue
			}
		}
		err := ix.merge()
		switch {
		case err != nil && err.Error() != lastErr:
			ix.log.Warn("store: index merge failed, retrying", "index", ix.path, "err", err)
			lastErr = err.Error()
		case err == nil && lastErr != "":
			ix.log.Info("store: index merge works again", "index", ix.path)
			lastErr = ""
		}
	}
}

func (ix *Index) lastMergeTime() time.Time {
	ix.mergeMu.Lock()
	defer ix.mergeMu.Unlock()
	return ix.lastMerge
}

// flush merges everything inserted so far into the file.
func (ix *Index) flush() error {
	for range 2 { // the frozen memtable of a failed merge, then the current one
		if err := ix.merge(); err != nil {
			return err
		}
	}
	return nil
}

// merge writes the frozen memtable (or, when there is none, the current
// one, frozen first) into the file. On failure the frozen memtable stays,
// still read by lookups, and the next merge tries it again.
func (ix *Index) merge() error {
	ix.mergeMu.Lock()
	defer ix.mergeMu.Unlock()
	ix.mu.Lock()
	n := len(ix.mem.entries)
	ix.mu.Unlock()
	// The next memtable is made outside the lock that inserts take.
	next := newMemtable(min(n, int(ix.mergeAt.Load())))
	ix.mu.Lock()
	if ix.frozen == nil {
		if len(ix.mem.entries) == 0 {
			ix.mu.Unlock()
			ix.lastMerge = time.Now()
			return nil
		}
		ix.frozen = ix.mem
		ix.mem = next
	}
	fz := ix.frozen
	ix.mu.Unlock()

	// Sorted by home slot, the entries visit the file in order. The
	// frozen memtable itself is not reordered: lookups walk its chains.
	es := make([]memEntry, len(fz.entries))
	copy(es, fz.entries)
	var err error
	if now := time.Now(); float64(ix.used+uint64(len(es))) > maxLoadRatio*float64(ix.cap) {
		err = ix.grow(now, es)
	} else {
		t := &table{f: ix.f, cap: ix.cap, used: ix.used}
		t.sort(es)
		err = ix.apply(t, now, es)
		ix.used = t.used // counts the slots written, also when it failed half-way
	}
	if err == nil {
		for _, e := range es {
			ix.durable = max(ix.durable, e.seq)
		}
		err = ix.writeHeader()
	}
	if err != nil {
		return err
	}
	ix.lastMerge = time.Now()
	ix.mu.Lock()
	ix.frozen = nil
	ix.mu.Unlock()
	return nil
}

// chunk is one chunkSlots-slot piece of a table held by a merge.
type chunk struct {
	buf    []byte
	dirty  bool
	filled int // empty slots it filled: counted as used once written
}

// table is the file a merge writes into: the index's, or a grow's new one.
type table struct {
	f    *os.File
	cap  uint64 // slots, a power of two
	used uint64 // non-empty slots
}

// sort orders es by their home slot in t.
func (t *table) sort(es []memEntry) {
	mask := t.cap - 1
	slices.SortFunc(es, func(a, b memEntry) int { return cmp.Compare(a.h&mask, b.h&mask) })
}

// apply inserts es (sorted by home slot) into t, which has room for them.
// It reads the chunks their probes visit, changes them in memory and
// writes the changed ones back. A probe only moves forward from its
// entry's home slot, so once the entries' homes have passed a chunk it is
// written and let go: a merge holds a few chunks at a time. (A probe that
// wraps past the table's end reads its first chunks again, as written.)
func (ix *Index) apply(t *table, now time.Time, es []memEntry) error {
	mask := t.cap - 1
	held := map[uint64]*chunk{}
	var free [][]byte
	get := func(ci uint64) (*chunk, error) {
		if c := held[ci]; c != nil {
			return c, nil
		}
		n := min(chunkSlots, t.cap-ci*chunkSlots) * slotSize
		c := &chunk{}
		if k := len(free); k > 0 && uint64(cap(free[k-1])) >= n {
			c.buf, free = free[k-1][:n], free[:k-1]
		} else {
			c.buf = make([]byte, n)
		}
		if _, err := t.f.ReadAt(c.buf, int64(indexHeader+ci*chunkSlots*slotSize)); err != nil {
			return nil, fmt.Errorf("index %s: read: %w", ix.path, err)
		}
		held[ci] = c
		return c, nil
	}
	// release writes the held chunks below chunk end (all of them when
	// end is the table's size) and lets them go.
	release := func(end uint64) error {
		for ci, c := range held {
			if ci >= end {
				continue
			}
			if c.dirty {
				if _, err := t.f.WriteAt(c.buf, int64(indexHeader+ci*chunkSlots*slotSize)); err != nil {
					return fmt.Errorf("index %s: write: %w", ix.path, err)
				}
				t.used += uint64(c.filled)
			}
			free = append(free, c.buf)
			delete(held, ci)
		}
		return nil
	}
	for _, e := range es {
		home := e.h & mask
		if err := release(home / chunkSlots); err != nil {
			return err
		}
		pos := home
		var reuse []byte
		var reuseChunk *chunk
		for range t.cap {
			c, err := get(pos / chunkSlots)
			if err != nil {
				return err
			}
			off := (pos % chunkSlots) * slotSize
			s := c.buf[off : off+slotSize]
			sh := binary.LittleEndian.Uint64(s)
			if sh == 0 {
				if reuse == nil {
					reuse, reuseChunk = s, c
					c.filled++
				}
				putSlot(reuse, e)
				reuseChunk.dirty = true
				break
			}
			if sh == e.h && binary.LittleEndian.Uint64(s[8:]) == e.seq {
				break // already there: inserts are idempotent
			}
			if reuse == nil && !ix.live(int64(binary.LittleEndian.Uint64(s[16:])), now) {
				reuse, reuseChunk = s, c
			}
			pos = (pos + 1) & mask
		}
		if pos < home {
			// The probe wrapped: write the first chunks now, so that a
			// later read of them sees this entry.
			if err := release(home / chunkSlots); err != nil {
				return err
			}
		}
	}
	return release(t.cap)
}

func putSlot(s []byte, e memEntry) {
	binary.LittleEndian.PutUint64(s, e.h)
	binary.LittleEndian.PutUint64(s[8:], e.seq)
	binary.LittleEndian.PutUint64(s[16:], uint64(e.ts))
}

// grow rewrites the table with twice the slots (or the same, when dropping
// expired entries frees enough), keeping its live entries and adding es.
// It writes a new file, which replaces the old one, the way a merge does:
// the live entries of a batch of the old table's slots at a time, sorted
// by their home in the new one. Building the new table in memory cost its
// whole size and more (70 MiB when growing past 700 000 entries).
func (ix *Index) grow(now time.Time, es []memEntry) error {
	n := uint64(0)
	if err := ix.scan(now, func(batch []memEntry) error { n += uint64(len(batch)); return nil }); err != nil {
		return err
	}
	var add []memEntry
	for _, e := range es {
		if ix.live(e.ts, now) {
			add = append(add, e)
		}
	}
	n += uint64(len(add))
	newCap := ix.cap
	for float64(n+1) > maxLoadRatio/2*float64(newCap) {
		newCap *= 2
	}
	tmp := ix.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("index %s: grow: %w", ix.path, err)
	}
	t := &table{f: f, cap: newCap}
	err = f.Truncate(int64(indexHeader + newCap*slotSize))
	if err == nil {
		err = ix.scan(now, func(batch []memEntry) error {
			t.sort(batch)
			return ix.apply(t, now, batch)
		})
	}
	if err == nil {
		t.sort(add)
		err = ix.apply(t, now, add)
	}
	if err == nil {
		var hdr [indexHeader]byte
		copy(hdr[:], indexMagic)
		binary.LittleEndian.PutUint64(hdr[8:], newCap)
		binary.LittleEndian.PutUint64(hdr[16:], t.used)
		binary.LittleEndian.PutUint64(hdr[24:], ix.durable)
		_, err = f.WriteAt(hdr[:], 0)
	}
	if err == nil {
		err = os.Rename(tmp, ix.path)
	}
	if err != nil {
		// Keep serving from the old table; the next merge tries again.
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("index %s: grow: %w", ix.path, err)
	}
	ix.fmu.Lock()
	old := ix.f
	ix.f, ix.cap = f, newCap
	ix.fmu.Unlock()
	old.Close()
	ix.used = t.used
	ix.setMergeAt()
	return nil
}

// Entry is one live entry of an Index, as Scan reports it.
type Entry struct {
	// Hash is the key's Hash.
	Hash uint64
	// Seq is the stream sequence stored under it.
	Seq uint64
	// Unix is when it was stored, in seconds since 1970.
	Unix int64
}

// Scan calls fn with each live entry of the file (those stored within the
// window before now), in the table's order, and stops at fn's first
// error, which it returns. Entries not merged yet are not visited: call
// it on a freshly opened Index to see what the file holds. It holds
// mergeMu throughout (merges wait for it), so fn must not call Close.
func (ix *Index) Scan(now time.Time, fn func(Entry) error) error {
	ix.mergeMu.Lock()
	defer ix.mergeMu.Unlock()
	return ix.scan(now, func(batch []memEntry) error {
		for _, e := range batch {
			if err := fn(Entry{Hash: e.h, Seq: e.seq, Unix: e.ts}); err != nil {
				return err
			}
		}
		return nil
	})
}

// scan calls fn with the live entries of the file's table, a batch of
// slots at a time; fn may reorder the batch but not keep it.
func (ix *Index) scan(now time.Time, fn func([]memEntry) error) error {
	const batchSlots = 1 << 16
	buf := make([]byte, min(batchSlots, ix.cap)*slotSize)
	var batch []memEntry
	for pos := uint64(0); pos < ix.cap; pos += batchSlots {
		n := min(batchSlots, ix.cap-pos)
		b := buf[:n*slotSize]
		if _, err := ix.f.ReadAt(b, int64(indexHeader+pos*slotSize)); err != nil {
			return fmt.Errorf("index %s: read: %w", ix.path, err)
		}
		batch = batch[:0]
		for i := uint64(0); i < n; i++ {
			s := b[i*slotSize:]
			h := binary.LittleEndian.Uint64(s)
			ts := int64(binary.LittleEndian.Uint64(s[16:]))
			if h != 0 && ix.live(ts, now) {
				batch = append(batch, memEntry{h: h, seq: binary.LittleEndian.Uint64(s[8:]), ts: ts})
			}
		}
		if err := fn(batch); err != nil {
			return err
		}
	}
	return nil
}

// Close merges what is in memory, writes the header and closes the file.
func (ix *Index) Close() error {
	ix.mergeMu.Lock()
	closed := ix.f == nil
	ix.mergeMu.Unlock()
	if closed {
		return nil
	}
	close(ix.done)
	<-ix.stopped
	err := ix.flush()
	ix.mergeMu.Lock()
	defer ix.mergeMu.Unlock()
	ix.fmu.Lock()
	defer ix.fmu.Unlock()
	if cerr := ix.f.Close(); err == nil {
		err = cerr
	}
	ix.f = nil
	return err
}

// memEntry is one insert held in memory.
type memEntry struct {
	h, seq uint64
	ts     int64
	prev   int32 // the previous entry with the same hash, or -1
}

// memtable holds inserts in arrival order, chained by hash.
type memtable struct {
	heads   map[uint64]int32 // hash -> its newest entry
	entries []memEntry
}

func newMemtable(n int) *memtable {
	return &memtable{heads: make(map[uint64]int32, n), entries: make([]memEntry, 0, n)}
}

// add appends (h, seq, ts) unless it is there already.
func (m *memtable) add(h, seq uint64, ts int64) {
	head, ok := m.heads[h]
	if !ok {
		head = -1
	}
	for i := head; i >= 0; i = m.entries[i].prev {
		if m.entries[i].seq == seq {
			return
		}
	}
	m.heads[h] = int32(len(m.entries))
	m.entries = append(m.entries, memEntry{h: h, seq: seq, ts: ts, prev: head})
}

// lookup appends the live sequences stored under h to out.
func (m *memtable) lookup(h uint64, out []uint64, ix *Index, now time.Time) []uint64 {
	head, ok := m.heads[h]
	if !ok {
		return out
	}
	for i := head; i >= 0; i = m.entries[i].prev {
		e := &m.entries[i]
		if ix.live(e.ts, now) && !slices.Contains(out, e.seq) {
			out = append(out, e.seq)
		}
	}
	return out
}
