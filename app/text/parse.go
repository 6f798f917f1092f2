package text

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"mvdan.cc/xurls/v2"

	"github.com/pecan-social/pecan/models"
)

// Parse rewrites markdown links and finds entities. It returns the text as
// stored and its entities; mentions carry no ID yet (the caller resolves
// usernames and drops unknown ones).
func Parse(input string, opts Options) (string, models.Entities) {
	var e models.Entities
	var taken claimed
	text := input
	if opts.ParseMarkdownLinks {
		text, e.Links, taken = rewriteMarkdown(input)
	}
	runes := []rune(text)
	if opts.ParseLinks {
		links := findLinks(text, runes, taken)
		for _, l := range links {
			taken = append(taken, span{l.Pos, l.Pos + l.Len})
		}
		e.Links = append(e.Links, links...)
	}
	e.Mentions = findMentions(runes, taken)
	e.Tags = findTags(runes, taken)
	sortEntities(&e)
	return text, e
}

// Length is what counts against the post limit: the code points of the
// stored text, less the " [domain]" appended to markdown links.
func Length(text string, e models.Entities) int {
	n := utf8.RuneCountInString(text)
	for _, l := range e.Links {
		if l.AmendedLen != nil {
			n -= *l.AmendedLen - l.Len
		}
	}
	return n
}

var webSchemes = map[string]bool{"http": true, "https": true, "ftp": true, "gopher": true}

// normalizeURL adds http:// to a bare link and accepts only web schemes
// with a host; a bare link's host must at least look like a domain.
func normalizeURL(raw string) (string, *url.URL, bool) {
	bare := !strings.Contains(raw, "://")
	if bare {
		if i := strings.IndexByte(raw, ':'); i > 0 && webSchemes[strings.ToLower(raw[:i])] {
			return "", nil, false // "http:foo" without slashes is not a link
		}
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || !webSchemes[strings.ToLower(u.Scheme)] || u.Host == "" || strings.ContainsAny(raw, " \t\n\"<>") {
		return "", nil, false
	}
	if bare && (!strings.Contains(u.Hostname(), ".") || strings.HasSuffix(u.Hostname(), ".")) {
		return "", nil, false
	}
	canon := canonicalURL(raw)
	if u, err = url.Parse(canon); err != nil {
		return "", nil, false // cannot happen: only letters changed case
	}
	return canon, u, true
}

// canonicalURL lowercases the scheme and the ASCII letters of the host,
// both case-insensitive (RFC 3986 §6.2.2.1), as browsers do: so hrefs start
// with a scheme the HTML allows, and HTTP://A.example and http://a.example
// are one link to the revision check. Non-ASCII letters of an IDN host stay
// as typed. raw must contain "://".
func canonicalURL(raw string) string {
	i := strings.Index(raw, "://")
	scheme, rest := raw[:i], raw[i+len("://"):]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	host := strings.LastIndexByte(authority, '@') + 1 // userinfo keeps its case
	return lowerASCII(scheme) + "://" + authority[:host] + lowerASCII(authority[host:]) + rest[end:]
}

func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

var (
	relaxed = xurls.Relaxed()
	strict  = xurls.Strict()
)

// findLinks finds URLs with a web scheme and bare domains of known TLDs,
// outside the spans markdown links already claimed.
func findLinks(text string, runes []rune, taken claimed) []models.Link {
	var links []models.Link
	runeAt := runeIndex(text)
	for _, m := range linkCandidates(text) {
		start, end := m[0], m[1]
		match := strings.TrimRight(text[start:end], "…")
		end = start + len(match)
		if strings.Contains(match, "@") && !strings.Contains(match, "://") {
			continue // an email address, not a link
		}
		if start > 0 && (text[start-1] == '@' || text[start-1] == '.') {
			continue
		}
		u, _, ok := normalizeURL(match)
		if !ok {
			continue
		}
		pos, stop := runeAt[start], runeAt[end]
		if taken.overlaps(pos, stop) {
			continue
		}
		links = append(links, models.Link{URL: u, Text: string(runes[pos:stop]), Pos: pos, Len: stop - pos})
	}
	return links
}

// linkCandidates runs xurls only over the words that could hold a link (a
// dot or "://" in them): links never contain white space, and the TLD
// regexp costs time in proportion to what it reads, so this keeps parsing
// cheap on long texts.
func linkCandidates(text string) [][2]int {
	var out [][2]int
	for start := 0; start < len(text); {
		wordStart := start + strings.IndexFunc(text[start:], notSpace)
		if wordStart < start {
			break
		}
		wordEnd := len(text)
		if n := strings.IndexFunc(text[wordStart:], unicode.IsSpace); n >= 0 {
			wordEnd = wordStart + n
		}
		word := text[wordStart:wordEnd]
		if re := linkPattern(word); re != nil {
			for _, m := range re.FindAllStringIndex(word, -1) {
				out = append(out, [2]int{wordStart + m[0], wordStart + m[1]})
			}
		}
		start = wordEnd
	}
	return out
}

// linkPattern picks the cheaper strict pattern for words with a scheme; the
// relaxed one, with its list of every TLD, only for words that may hold a
// bare domain.
func linkPattern(word string) *regexp.Regexp {
	switch {
	case strings.Contains(word, "://"):
		return strict
	case strings.Contains(word, "."):
		return relaxed
	}
	return nil
}

func notSpace(r rune) bool { return !unicode.IsSpace(r) }

// runeIndex maps each byte offset that starts a rune (and the end) to its
// code-point index.
func runeIndex(s string) map[int]int {
	idx := make(map[int]int, len(s)+1)
	i := 0
	for b := range s {
		idx[b] = i
		i++
	}
	idx[len(s)] = i
	return idx
}
