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
		links := findLinks(text, append(handleSpans(runes, taken), taken...))
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
	if canon == raw {
		return raw, u, true
	}
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
	strict  = xurls.Strict()
	relaxed = xurls.Relaxed()
	bare    = relaxedWithoutColon()
	web     = strictForWeb()
)

// strictForWeb is strict for the schemes almost every link has, http and
// https: about ten times faster on a word, as the matcher does not track
// every scheme xurls knows at every position.
func strictForWeb() *regexp.Regexp {
	re, err := xurls.StrictMatchingScheme(`https?://`)
	if err != nil {
		return strict
	}
	return re
}

// findLinks finds URLs with a web scheme and bare domains of known TLDs,
// outside the spans markdown links already claimed.
func findLinks(text string, taken claimed) []models.Link {
	return keepLinks(text, linkCandidates(text, linkPattern), taken)
}

// keepLinks keeps the candidates that are web links outside taken spans.
func keepLinks(text string, candidates [][2]int, taken claimed) []models.Link {
	var links []models.Link
	toPos := codePoints(text)
	for _, m := range candidates {
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
		pos, stop := toPos(start), toPos(end)
		if taken.overlaps(pos, stop) {
			continue
		}
		links = append(links, models.Link{URL: u, Text: match, Pos: pos, Len: stop - pos})
	}
	return links
}

// codePoints converts byte offsets into text to code-point positions. The
// offsets must come in non-decreasing order, as link candidates do, so
// each byte is counted once.
func codePoints(text string) func(offset int) int {
	at, pos := 0, 0 // byte offset at is code point pos
	return func(offset int) int {
		pos += utf8.RuneCountInString(text[at:offset])
		at = offset
		return pos
	}
}

// linkCandidates runs xurls word by word, with the pattern choose picks
// for each (nil: none): links never contain white space, and the TLD
// regexp costs time in proportion to what it reads, so this keeps parsing
// cheap on long texts.
func linkCandidates(text string, choose func(word string) *regexp.Regexp) [][2]int {
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
		if re := choose(word); re != nil {
			for _, m := range matchWord(re, word) {
				out = append(out, [2]int{wordStart + m[0], wordStart + m[1]})
			}
		}
		start = wordEnd
	}
	return out
}

// matchWord finds re's matches in word. For web, chosen for a word that
// starts with an http or https URL, that URL is what strict would find
// if no ':' follows it in the word: the two patterns differ only in the
// schemes they know, and every scheme ends in one. Otherwise it is strict.
func matchWord(re *regexp.Regexp, word string) [][]int {
	if re == web {
		if m := web.FindStringIndex(word); m != nil && m[0] == 0 && !strings.Contains(word[m[1]:], ":") {
			return [][]int{m}
		}
		re = strict
	}
	return re.FindAllStringIndex(word, -1)
}

// startsWithWebScheme reports whether word starts with http:// or
// https://, in any case.
func startsWithWebScheme(word string) bool {
	for _, scheme := range []string{"http://", "https://"} {
		if len(word) >= len(scheme) && strings.EqualFold(word[:len(scheme)], scheme) {
			return true
		}
	}
	return false
}

// linkPattern picks the cheapest pattern that finds in word what Relaxed
// would and findLinks would keep: web or strict for words with a scheme; for the
// rest, only when a bare host is possible, and without the alternatives
// that need a ':' when there is none.
func linkPattern(word string) *regexp.Regexp {
	switch {
	case startsWithWebScheme(word):
		return web
	case strings.Contains(word, "://"):
		return strict
	case !mayHoldHost(word):
		return nil
	case strings.Contains(word, ":"):
		return relaxed
	}
	return bare
}

// mayHoldHost reports whether word has a '.' followed by a letter, mark or
// number. The host of every bare link findLinks keeps has one: a domain's
// labels and TLDs start with one (every TLD xurls knows does), and so do an
// IPv4 address's octets. Words without it ("today.", "...") skip xurls.
func mayHoldHost(word string) bool {
	for i := strings.IndexByte(word, '.'); i >= 0; {
		r, _ := utf8.DecodeRuneInString(word[i+1:])
		if unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r) {
			return true
		}
		next := strings.IndexByte(word[i+1:], '.')
		if next < 0 {
			return false
		}
		i += 1 + next
	}
	return false
}

// relaxedWithoutColon is xurls' relaxed pattern without the alternatives
// that need a ':', URLs with a scheme and bare IPv6 addresses. On a word
// without ':' those never match, so it finds exactly what Relaxed finds,
// several times faster: they make most of the states the matcher tracks at
// every position. xurls builds Relaxed as strict|web|email|ipv6; should a
// new version build it otherwise, this is Relaxed itself (slower, still
// right) and TestRelaxedWithoutColon fails to say so.
func relaxedWithoutColon() *regexp.Regexp {
	alts := topLevelAlternatives(relaxed.String())
	if len(alts) != 4 || alts[0] != strict.String() || !strings.HasPrefix(alts[2], "(?P<relaxedEmail>") {
		return relaxed
	}
	re, err := regexp.Compile(alts[1] + "|" + alts[2])
	if err != nil {
		return relaxed
	}
	re.Longest()
	return re
}

// topLevelAlternatives splits a regular expression at the '|'s outside any
// group or character class.
func topLevelAlternatives(expr string) []string {
	var (
		alts         []string
		depth, start int
		inClass      bool
	)
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; {
		case c == '\\':
			i++ // the escaped byte is a literal; multi-byte runes never contain ASCII bytes
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
			if strings.HasPrefix(expr[i+1:], "^]") {
				i += 2
			} else if strings.HasPrefix(expr[i+1:], "]") {
				i++
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			alts = append(alts, expr[start:i])
			start = i + 1
		}
	}
	return append(alts, expr[start:])
}

func notSpace(r rune) bool { return !unicode.IsSpace(r) }
