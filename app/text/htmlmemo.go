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

// maxMemoized bounds the HTML remembered; past it, the memo starts over.
const maxMemoized = 8192

type htmlMemo struct {
	seed    maphash.Seed
	mu      sync.RWMutex
	entries map[uint64]memoized
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
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) >= maxMemoized {
		m.entries = make(map[uint64]memoized, maxMemoized)
	}
	m.entries[key] = memoized{text: text, html: html}
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
