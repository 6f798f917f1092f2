package text

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pecan-social/pecan/models"
)

// TestRememberedHTMLIsRenderedHTML renders many posts, from many goroutines
// at once and each several times, and wants what a fresh render gives:
// posts that share a text but not their entities never get each other's
// HTML, and neither do texts that share entities.
func TestRememberedHTMLIsRenderedHTML(t *testing.T) {
	type post struct {
		text string
		e    models.Entities
	}
	var posts []post
	for i := range 300 {
		text := fmt.Sprintf("hi @bob see https://example.com/%d #tag%d", i%100, i%7)
		_, e := Parse(text, Options{ParseLinks: true})
		e.Mentions = withIDs(e.Mentions)
		posts = append(posts, post{text, e})
		// The same text, its mention not resolved: no mention markup.
		_, bare := Parse(text, Options{ParseLinks: true})
		posts = append(posts, post{text, bare})
		// Another text, the same entities.
		posts = append(posts, post{text + "!", e})
	}
	var wg sync.WaitGroup
	for worker := range 8 {
		wg.Go(func() {
			for round := range 3 {
				for i := worker + round; i < len(posts); i += 5 {
					p := posts[i]
					if got, want := HTML(p.text, p.e), renderHTML(p.text, p.e); got != want {
						t.Errorf("post %d: remembered %q, rendered %q", i, got, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestHTMLMemoStaysBounded(t *testing.T) {
	m := &htmlMemo{entries: map[uint64]memoized{}}
	for i := range maxMemoized + 10 {
		m.put(uint64(i), "t", "h")
	}
	if n := len(m.entries); n > maxMemoized {
		t.Fatalf("%d entries, bound %d", n, maxMemoized)
	}
	// Long texts, as a remote server may send, are not kept at all, and
	// those that are kept stay under the byte bound.
	m.put(1, strings.Repeat("x", maxMemoizedText+1), "h")
	if _, ok := m.get(1, strings.Repeat("x", maxMemoizedText+1)); ok {
		t.Fatal("a text longer than maxMemoizedText was kept")
	}
	text := strings.Repeat("y", maxMemoizedText)
	for i := range 3 * maxMemoizedBytes / (2 * maxMemoizedText) {
		m.put(uint64(i), text, text)
		if m.bytes > maxMemoizedBytes {
			t.Fatalf("%d bytes kept, bound %d", m.bytes, maxMemoizedBytes)
		}
	}
}
