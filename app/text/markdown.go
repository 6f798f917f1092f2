package text

import (
	"strings"
	"unicode/utf8"

	"github.com/pecan-social/pecan/models"
)

// mdLink is a markdown link found in the input.
type mdLink struct {
	start, end int // code points of the whole [anchor](url "title") in the input
	anchor     string
	url, title string
	host       string
}

// rewriteMarkdown turns each [anchor](url "title") into "anchor [domain]"
// ("anchor" alone when the anchor is the domain) and returns the new text,
// the link entities and the spans they claim in it.
func rewriteMarkdown(input string) (string, []models.Link, claimed) {
	if !strings.Contains(input, "](") && utf8.ValidString(input) {
		return input, nil, nil // no link here, and nothing to replace with U+FFFD
	}
	runes := []rune(input)
	var (
		out   strings.Builder
		links []models.Link
		taken claimed
	)
	out.Grow(len(input))
	pos := 0 // code points written so far
	for i := 0; i < len(runes); {
		md, ok := parseMarkdownAt(runes, i)
		if !ok {
			out.WriteRune(runes[i])
			pos++
			i++
			continue
		}
		anchorLen := utf8.RuneCountInString(md.anchor)
		link := models.Link{URL: md.url, Text: md.anchor, Pos: pos, Len: anchorLen, Title: md.title}
		out.WriteString(md.anchor)
		written := anchorLen
		if !strings.EqualFold(md.anchor, md.host) {
			suffix := " [" + md.host + "]"
			out.WriteString(suffix)
			written += utf8.RuneCountInString(suffix)
			amended := written
			link.AmendedLen = &amended
		}
		links = append(links, link)
		taken = append(taken, span{pos, pos + written})
		pos += written
		i = md.end
	}
	return out.String(), links, taken
}

// parseMarkdownAt reads a markdown link starting at runes[i] == '['.
func parseMarkdownAt(runes []rune, i int) (mdLink, bool) {
	if runes[i] != '[' {
		return mdLink{}, false
	}
	closeAnchor := matching(runes, i, '[', ']')
	if closeAnchor < 0 || closeAnchor+1 >= len(runes) || runes[closeAnchor+1] != '(' {
		return mdLink{}, false
	}
	closeTarget := matching(runes, closeAnchor+1, '(', ')')
	if closeTarget < 0 {
		return mdLink{}, false
	}
	anchor := strings.TrimSpace(string(runes[i+1 : closeAnchor]))
	target, title, ok := splitTarget(string(runes[closeAnchor+2 : closeTarget]))
	if !ok || anchor == "" || strings.ContainsAny(anchor, "\n") {
		return mdLink{}, false
	}
	u, parsed, ok := normalizeURL(target)
	if !ok {
		return mdLink{}, false
	}
	return mdLink{start: i, end: closeTarget + 1, anchor: anchor, url: u, title: title, host: parsed.Host}, true
}

// matching finds the bracket that closes the one at open, counting nesting.
func matching(runes []rune, open int, opening, closing rune) int {
	depth := 0
	for j := open; j < len(runes); j++ {
		switch runes[j] {
		case opening:
			depth++
		case closing:
			depth--
			if depth == 0 {
				return j
			}
		case '\n':
			return -1
		}
	}
	return -1
}

// splitTarget separates `url "title"` into its parts.
func splitTarget(s string) (string, string, bool) {
	s = strings.TrimSpace(s)
	target, rest, hasTitle := strings.Cut(s, " ")
	if !hasTitle {
		return target, "", target != ""
	}
	rest = strings.TrimSpace(rest)
	if len(rest) < 2 || rest[0] != '"' || rest[len(rest)-1] != '"' {
		return "", "", false
	}
	return target, rest[1 : len(rest)-1], target != ""
}
