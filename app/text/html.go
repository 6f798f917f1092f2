package text

import (
	"html"
	"sort"
	"strings"

	"github.com/pecan-social/pecan/models"
)

// entityRef is one entity's place in the text, for rendering in order.
type entityRef struct {
	pos, end int
	open     string // markup before the entity's text
	close    string // markup after it
}

// HTML renders the text with its entities as safe HTML, pnut style: every
// piece of text is escaped, only web URLs become hrefs, and newlines
// become <br>.
func HTML(text string, e models.Entities) string {
	runes := []rune(text)
	refs := entityRefs(e, len(runes))
	var b strings.Builder
	b.Grow(len(text) * 2)
	b.WriteString(`<span itemscope itemtype="https://pnut.io/schemas/Post">`)
	at := 0
	for _, ref := range refs {
		if ref.pos < at {
			continue // overlapping entities never come from Parse; skip rather than break markup
		}
		writeText(&b, runes[at:ref.pos])
		b.WriteString(ref.open)
		writeText(&b, runes[ref.pos:ref.end])
		b.WriteString(ref.close)
		at = ref.end
	}
	writeText(&b, runes[at:])
	b.WriteString(`</span>`)
	return b.String()
}

func entityRefs(e models.Entities, n int) []entityRef {
	var refs []entityRef
	add := func(pos, length int, open, close string) {
		if pos >= 0 && length > 0 && pos+length <= n {
			refs = append(refs, entityRef{pos: pos, end: pos + length, open: open, close: close})
		}
	}
	for _, l := range e.Links {
		if u, _, ok := normalizeURL(l.URL); ok {
			open := `<a href="` + html.EscapeString(u) + `"`
			if l.Title != "" {
				open += ` title="` + html.EscapeString(l.Title) + `"`
			}
			add(l.Pos, l.Len, open+`>`, `</a>`)
		}
	}
	for _, m := range e.Mentions {
		if m.ID != "" {
			add(m.Pos, m.Len, `<span data-mention-id="`+html.EscapeString(m.ID)+`" data-mention-name="`+html.EscapeString(m.Text)+`" itemprop="mention">`, `</span>`)
		}
	}
	for _, t := range e.Tags {
		add(t.Pos, t.Len, `<span data-tag-name="`+html.EscapeString(NormalizeTag(t.Text))+`" itemprop="tag">`, `</span>`)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].pos < refs[j].pos })
	return refs
}

func writeText(b *strings.Builder, runes []rune) {
	for i, line := range strings.Split(string(runes), "\n") {
		if i > 0 {
			b.WriteString("<br>")
		}
		b.WriteString(html.EscapeString(line))
	}
}
