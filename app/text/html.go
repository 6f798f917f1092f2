package text

import (
	"html"
	"sort"
	"strings"
	"unicode/utf8"

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
	key := renderedHTML.key(text, e)
	if html, ok := renderedHTML.get(key, text); ok {
		return html
	}
	html := renderHTML(text, e)
	renderedHTML.put(key, text, html)
	return html
}

func renderHTML(text string, e models.Entities) string {
	text = validText(text)
	refs := entityRefs(e, utf8.RuneCountInString(text))
	return render(text, refs, `<span itemscope itemtype="https://pnut.io/schemas/Post">`, `</span>`)
}

// FediHTML renders the text for other fediverse servers, in the markup
// Mastodon keeps when it sanitises: a paragraph, links, mentions as links
// to the actor (class "u-url mention" in an h-card) and hashtags as links
// (class "mention hashtag", rel "tag"). mentionHref gives a mentioned
// user's actor URL by pnut user id ("" leaves the mention as text);
// tagHref gives a tag's page.
func FediHTML(text string, e models.Entities, mentionHref func(id string) string, tagHref func(tag string) string) string {
	text = validText(text)
	n := utf8.RuneCountInString(text)
	var refs []entityRef
	add := func(pos, length int, open, close string) {
		if pos >= 0 && length > 0 && pos+length <= n {
			refs = append(refs, entityRef{pos: pos, end: pos + length, open: open, close: close})
		}
	}
	for _, l := range e.Links {
		if u, _, ok := normalizeURL(l.URL); ok {
			add(l.Pos, l.Len, `<a href="`+html.EscapeString(u)+`" rel="nofollow noopener noreferrer" target="_blank">`, `</a>`)
		}
	}
	for _, m := range e.Mentions {
		if href := mentionHref(m.ID); href != "" {
			add(m.Pos, m.Len, `<span class="h-card"><a href="`+html.EscapeString(href)+`" class="u-url mention">`, `</a></span>`)
		}
	}
	for _, t := range e.Tags {
		add(t.Pos, t.Len, `<a href="`+html.EscapeString(tagHref(t.Text))+`" class="mention hashtag" rel="tag">`, `</a>`)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].pos < refs[j].pos })
	return render(text, refs, `<p>`, `</p>`)
}

// validText shows each invalid byte as U+FFFD, as positions count it.
func validText(text string) string {
	if utf8.ValidString(text) {
		return text
	}
	return string([]rune(text))
}

// render writes prefix, the escaped text with each entity's markup around
// it, and suffix.
func render(text string, refs []entityRef, prefix, suffix string) string {
	toByte := byteOffsets(text)
	var b strings.Builder
	b.Grow(len(text) * 2)
	b.WriteString(prefix)
	at, atByte := 0, 0
	for _, ref := range refs {
		if ref.pos < at {
			continue // overlapping entities never come from Parse; skip rather than break markup
		}
		start, end := toByte(ref.pos), toByte(ref.end)
		textEscaper.WriteString(&b, text[atByte:start])
		b.WriteString(ref.open)
		textEscaper.WriteString(&b, text[start:end])
		b.WriteString(ref.close)
		at, atByte = ref.end, end
	}
	textEscaper.WriteString(&b, text[atByte:])
	b.WriteString(suffix)
	return b.String()
}

// byteOffsets converts code-point positions in text to byte offsets; the
// positions must come in non-decreasing order, so text is walked once.
func byteOffsets(text string) func(pos int) int {
	at, b := 0, 0 // code point at starts at byte b
	return func(pos int) int {
		for ; at < pos; at++ {
			_, size := utf8.DecodeRuneInString(text[b:])
			b += size
		}
		return b
	}
}

// textEscaper is html.EscapeString, and newlines as <br>, in one pass
// without building intermediate strings.
var textEscaper = strings.NewReplacer(`&`, "&amp;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;", "\n", "<br>")

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
