package text

import (
	"encoding/binary"
	"hash/maphash"
	"sync"

	"github.com/pecan-social/pecan/models"
)

// Stream pages show the same recent posts to everyone who reads them, and
// rendering a post's HTML was a tenth of the CPU of serving a page. HTML is
// a pure function of the text and its entities, so what was rendered
// lately is remembered, keyed by a hash of both and checked against the
// text on every hit.

// The memo is bounded in entries and in bytes; past either bound it starts
// over. Texts longer than any local post could be (remote posts may be up
// to a fetched document's size) are rendered every time instead.
const (
	maxMemoized      = 8192
	maxMemoizedBytes = 8 << 20
	maxMemoizedText  = 4096
)

type htmlMemo struct {
	seed    maphash.Seed
	mu      sync.RWMutex
	entries map[uint64]memoized
	bytes   int
}

type memoized struct {
	text, html string
}

var renderedHTML = &htmlMemo{seed: maphash.MakeSeed(), entries: make(map[uint64]memoized)}

func (m *htmlMemo) get(key uint64, text string) (string, bool) {
	m.mu.RLock()
	e, ok := m.entries[key]
	m.mu.RUnlock()
	if !ok || e.text != text {
		return "", false
	}
	return e.html, true
}

func (m *htmlMemo) put(key uint64, text, html string) {
	size := len(text) + len(html)
	if len(text) > maxMemoizedText {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) >= maxMemoized || m.bytes+size > maxMemoizedBytes {
		m.entries, m.bytes = make(map[uint64]memoized, maxMemoized), 0
	}
	if old, ok := m.entries[key]; ok {
		m.bytes -= len(old.text) + len(old.html)
	}
	m.entries[key] = memoized{text: text, html: html}
	m.bytes += size
}

// key hashes the text and every entity field the HTML depends on.
func (m *htmlMemo) key(text string, e models.Entities) uint64 {
	var h maphash.Hash
	h.SetSeed(m.seed)
	h.WriteString(text)
	var buf [8]byte
	num := func(n int) {
		binary.LittleEndian.PutUint64(buf[:], uint64(n))
		h.Write(buf[:])
	}
	str := func(s string) {
		num(len(s))
		h.WriteString(s)
	}
	num(len(e.Links))
	for _, l := range e.Links {
		num(l.Pos)
		num(l.Len)
		str(l.URL)
		str(l.Title)
	}
	num(len(e.Mentions))
	for _, mn := range e.Mentions {
		num(mn.Pos)
		num(mn.Len)
		str(mn.ID)
		str(mn.Text)
	}
	num(len(e.Tags))
	for _, t := range e.Tags {
		num(t.Pos)
		num(t.Len)
		str(t.Text)
	}
	return h.Sum64()
}
