package federation

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/pecan-social/pecan/models"
)

// NoteTag is an entry of a Note's "tag" array.
type NoteTag struct {
	Type string // "Mention", "Hashtag", "Emoji", ...
	Href string
	Name string // "@alice@example.com" or "#Tag"
}

// RemoteMention is a mention found in remote content; the caller resolves Href to a user id.
type RemoteMention struct {
	Href     string // the mentioned actor's URI (from the tag array, matched by link href or by name)
	Name     string // as shown in the text without the leading "@": "alice@example.com" (user@host form), even if the HTML showed only "@alice"
	Pos, Len int    // code points in Text; Len includes '@'
}

// Content is remote HTML turned into pnut text and entities.
type Content struct {
	Text     string
	Links    []models.Link
	Mentions []RemoteMention
	Tags     []models.Tag
}

// allowedClass is one class Mastodon keeps on remote HTML: microformats
// (h-*, p-*, u-*, dt-*, e-*) and the four it styles.
var allowedClass = regexp.MustCompile(`^(?:(?:h|p|u|dt|e)-[A-Za-z0-9_-]+|mention|hashtag|ellipsis|invisible)$`)

var sanitizer = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "span", "del", "pre", "code", "em", "strong", "b", "i", "u", "ul", "ol", "li", "blockquote")
	// class values are filtered token by token before bluemonday sees
	// them (filterClasses), so here they only need to look like a list.
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^[A-Za-z0-9_ -]+$`)).OnElements("span", "a")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^[A-Za-z ]+$`)).OnElements("a")
	p.AllowURLSchemes("http", "https") // also requires parseable, absolute URLs
	// bluemonday already drops the content of script, style, iframe,
	// object, noscript, title and friends; these hold no visible text either.
	p.SkipElementsContent("template", "textarea", "svg", "math", "select")
	return p
})

// SanitizeHTML cleans remote HTML with a bluemonday policy like Mastodon's: p, br, span (class limited to
// h-*, p-*, u-*, dt-*, e-*, mention, hashtag, ellipsis, invisible), a (href with http/https only, rel, class),
// del, pre, code, em, strong, b, i, u, ul, ol, li, blockquote; everything else stripped (script/style content removed entirely).
func SanitizeHTML(s string) string {
	return sanitizer().Sanitize(filterClasses(s))
}

// filterClasses keeps only the allowed tokens of every class attribute, as
// Mastodon does; bluemonday can only keep or drop a whole attribute. The
// tokens are written back with x/net/html's escaping, and bluemonday then
// sanitises the result.
func filterClasses(s string) string {
	if !strings.Contains(s, "class") && !strings.Contains(s, "CLASS") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		if z.Next() == html.ErrorToken {
			return b.String() // io.EOF: the reader cannot fail otherwise
		}
		tok := z.Token()
		if tok.Type == html.StartTagToken || tok.Type == html.SelfClosingTagToken {
			attrs := tok.Attr[:0]
			for _, a := range tok.Attr {
				if a.Key == "class" {
					a.Val = strings.Join(allowedClasses(a.Val), " ")
					if a.Val == "" {
						continue
					}
				}
				attrs = append(attrs, a)
			}
			tok.Attr = attrs
		}
		b.WriteString(tok.String())
	}
}

func allowedClasses(v string) []string {
	var keep []string
	for _, c := range strings.Fields(v) {
		if allowedClass.MatchString(c) {
			keep = append(keep, c)
		}
	}
	return keep
}

// ParseContent turns a Note's HTML content into plain text and entities:
//   - paragraphs (<p>) are separated by a blank line ("\n\n"), <br> is "\n"; leading/trailing whitespace trimmed; HTML entities decoded;
//   - Mastodon's hidden link parts (<span class="invisible">) are dropped from the text and <span class="ellipsis"> gets "…" appended, so the text shows what the reader sees, while the link entity's url is the full href;
//   - <a href> becomes a link entity {url: href (http/https only; other schemes become plain text), text, pos, len}, except:
//   - a link that is a mention (class contains "mention" or href matches a NoteTag of type Mention, and the text starts with "@") becomes a RemoteMention with Name in user@host form (use the tag's Name minus '@' when it matches; else text+"@"+host of href), and its text in Text is "@" + Name so it reads as a full handle;
//   - a link that is a hashtag (class contains "hashtag" or rel="tag" or the text starts with "#") becomes a models.Tag {Text: without '#', Pos, Len including '#'};
//   - plain "#tag" words outside links are NOT parsed (remote servers link their tags);
//   - positions are code points of Text.
//
// It must never panic on any input, and its output Text contains no HTML (it is plain text).
//
// The HTML is parsed as a browser would (golang.org/x/net/html), and only
// text nodes reach Text, so it needs no sanitising first; other block
// elements (div, li, headings, …) also break lines. Whitespace collapses
// as in HTML except inside <pre>. NUL and other control characters are
// dropped and invalid UTF-8 becomes U+FFFD. A mention, hashtag or link
// whose visible text is empty, or whose name would contain whitespace, is
// kept as plain text (a link with text, if its href is still usable).
// When a mention matches no tag, Href is the link's href. HTML nested
// deeper than x/net/html accepts (512 open elements) keeps its text and
// line breaks but gets no entities.
func ParseContent(s string, tags []NoteTag) (c Content) {
	defer func() {
		if recover() != nil {
			c = Content{} // a parser bug must not take the inbox down; the fuzz target runs without this
		}
	}()
	return parseContent(s, tags)
}

func parseContent(s string, tags []NoteTag) Content {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	p := &parser{tags: tags}
	nodes, err := html.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		// x/net/html refuses more than 512 open elements; such HTML is
		// hostile or broken, so keep its text without entities.
		p.plain(s)
		return p.finish()
	}
	p.walk(nodes, &p.out, false)
	return p.finish()
}

// plain writes the text of s token by token, without a tree: no entities,
// no invisible spans, but paragraphs, line breaks and hidden raw text
// handled as walk does.
func (p *parser) plain(s string) {
	w := &p.out
	z := html.NewTokenizer(strings.NewReader(s))
	skip := false // the text token after a hidden raw-text start tag
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			if !skip {
				w.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Br {
				w.lineBreak()
			} else {
				w.block(blockBreaks[a])
			}
			skip = tt == html.StartTagToken && hidden[a]
			continue
		}
		skip = false
	}
}

// parser holds the state of one ParseContent call.
type parser struct {
	tags []NoteTag
	out  writer
	c    Content
}

// blockBreaks is how many newlines an element puts around itself.
var blockBreaks = map[atom.Atom]int{
	atom.P: 2, atom.Blockquote: 2, atom.Pre: 2, atom.Ul: 2, atom.Ol: 2, atom.Dl: 2,
	atom.H1: 2, atom.H2: 2, atom.H3: 2, atom.H4: 2, atom.H5: 2, atom.H6: 2,
	atom.Table: 2, atom.Hr: 2, atom.Figure: 2, atom.Details: 2,
	atom.Div: 1, atom.Li: 1, atom.Dt: 1, atom.Dd: 1, atom.Tr: 1, atom.Section: 1,
	atom.Article: 1, atom.Header: 1, atom.Footer: 1, atom.Aside: 1, atom.Nav: 1,
	atom.Main: 1, atom.Figcaption: 1, atom.Summary: 1, atom.Address: 1,
}

// hidden elements show no text to a reader.
var hidden = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Template: true, atom.Iframe: true,
	atom.Noscript: true, atom.Noembed: true, atom.Noframes: true, atom.Textarea: true,
	atom.Title: true, atom.Head: true, atom.Object: true, atom.Svg: true,
	atom.Math: true, atom.Select: true, atom.Frameset: true, atom.Frame: true,
	atom.Xmp: true, atom.Plaintext: true, // raw text: would show markup as text
}

// walk writes the visible text of nodes and their descendants to w,
// without recursion (remote HTML may nest deeply). Outside a link it
// turns <a> elements into entities; inside one, nested anchors are text.
func (p *parser) walk(nodes []*html.Node, w *writer, inLink bool) {
	type step struct {
		n    *html.Node
		exit bool
	}
	stack := make([]step, 0, 16)
	for i := len(nodes) - 1; i >= 0; i-- {
		stack = append(stack, step{n: nodes[i]})
	}
	for len(stack) > 0 {
		st := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := st.n
		if st.exit {
			switch {
			case n.DataAtom == atom.Span && hasToken(attr(n, "class"), "ellipsis"):
				w.text("…")
			case n.DataAtom == atom.Pre:
				w.pre--
			}
			w.block(blockBreaks[n.DataAtom])
			continue
		}
		switch n.Type {
		case html.TextNode:
			w.text(n.Data)
			continue
		case html.ElementNode:
		default:
			continue // comments, doctypes
		}
		if n.Namespace != "" || hidden[n.DataAtom] {
			continue
		}
		switch n.DataAtom {
		case atom.Br:
			w.lineBreak()
			continue
		case atom.Span:
			if hasToken(attr(n, "class"), "invisible") {
				continue
			}
		case atom.A:
			if !inLink {
				p.anchor(n)
				continue
			}
		case atom.Pre:
			w.pre++
		}
		w.block(blockBreaks[n.DataAtom])
		stack = append(stack, step{n: n, exit: true})
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, step{n: c})
		}
	}
}

// anchor turns an <a> into a mention, a tag, a link or plain text.
func (p *parser) anchor(n *html.Node) {
	var sub writer
	sub.pre = p.out.pre
	var children []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		children = append(children, c)
	}
	p.walk(children, &sub, true)
	shown := sub.b.String()
	w := &p.out
	w.lead(sub.leadBreaks, sub.leadSpace)
	defer w.lead(sub.breaks, sub.space)

	href := strings.TrimSpace(attr(n, "href"))
	u, ok := webURL(href)
	if !ok || shown == "" {
		w.atomic(shown) // javascript:, data:, relative or missing href: just text
		return
	}
	raw := href
	href = u.Scheme + href[len(u.Scheme):] // url.Parse lower-cases the scheme: "HTTPS://" → "https://"
	class := attr(n, "class")
	if strings.HasPrefix(shown, "@") {
		tag, matched := p.mentionTag(raw, u, shown)
		if matched || hasToken(class, "mention") {
			if name := mentionName(tag, matched, shown, u); name != "" {
				ref := href
				if matched && tag.Href != "" {
					ref = tag.Href
				}
				pos, l := w.atomic("@" + name)
				p.c.Mentions = append(p.c.Mentions, RemoteMention{Href: ref, Name: name, Pos: pos, Len: l})
				return
			}
		}
	}
	if hasToken(class, "hashtag") || hasToken(attr(n, "rel"), "tag") || strings.HasPrefix(shown, "#") {
		if name, ok := strings.CutPrefix(shown, "#"); ok && isName(name) {
			pos, l := w.atomic(shown)
			p.c.Tags = append(p.c.Tags, models.Tag{Text: name, Pos: pos, Len: l})
			return
		}
	}
	pos, l := w.atomic(shown)
	p.c.Links = append(p.c.Links, models.Link{URL: href, Text: shown, Pos: pos, Len: l})
}

// mentionTag finds the Mention tag for a link: by href; else by full
// handle (the shown "@user", with the href's host unless it has its
// own); else the only Mention tag with that username, as an account's
// handle domain may differ from its web host.
func (p *parser) mentionTag(href string, u *url.URL, shown string) (NoteTag, bool) {
	var mentions []NoteTag
	for _, t := range p.tags {
		if t.Type != "Mention" {
			continue
		}
		if t.Href != "" && t.Href == href {
			return t, true
		}
		mentions = append(mentions, t)
	}
	handle := textHandle(shown, u)
	user, _, _ := strings.Cut(handle, "@")
	var byUser []NoteTag
	for _, t := range mentions {
		name := strings.ToLower(strings.TrimPrefix(t.Name, "@"))
		if name == handle {
			return t, true
		}
		if tu, _, _ := strings.Cut(name, "@"); tu == user && user != "" {
			byUser = append(byUser, t)
		}
	}
	if len(byUser) == 1 {
		return byUser[0], true
	}
	return NoteTag{}, false
}

// textHandle is the lower-cased user@host a shown "@user" or
// "@user@host" stands for.
func textHandle(shown string, u *url.URL) string {
	h := strings.ToLower(strings.TrimPrefix(shown, "@"))
	if !strings.Contains(h, "@") {
		h += "@" + strings.ToLower(u.Host)
	}
	return h
}

// mentionName is the user@host shown for a mention, or "" when neither the
// tag nor the text gives a usable one.
func mentionName(tag NoteTag, matched bool, shown string, u *url.URL) string {
	if matched {
		name := strings.TrimPrefix(tag.Name, "@")
		if !strings.Contains(name, "@") && name != "" {
			name += "@" + strings.ToLower(u.Host)
		}
		if isHandle(name) {
			return name
		}
	}
	name := strings.TrimPrefix(shown, "@")
	if !strings.Contains(name, "@") {
		name += "@" + strings.ToLower(u.Host)
	}
	if isHandle(name) {
		return name
	}
	return ""
}

// isHandle reports whether s is user@host made of characters a handle may
// have (letters, digits, marks and "_.-+~", and ":" for a port), so a
// hostile tag name cannot put arbitrary text into a mention.
func isHandle(s string) bool {
	user, host, ok := strings.Cut(s, "@")
	return ok && handlePart(user, false) && handlePart(host, true)
}

func handlePart(s string, host bool) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r), strings.ContainsRune("_.-+~", r):
		case host && r == ':':
		default:
			return false
		}
	}
	return true
}

// isName reports whether s is non-empty and has no whitespace or control
// characters, so it can stand as one word in the text.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// webURL accepts absolute http(s) URLs with a host and nothing a pnut
// renderer would refuse (spaces, quotes, angle brackets, controls).
func webURL(href string) (*url.URL, bool) {
	if href == "" || strings.ContainsFunc(href, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '"' || r == '<' || r == '>' || r == '\\'
	}) {
		return nil, false
	}
	u, err := url.Parse(href)
	if err != nil || u.Host == "" {
		return nil, false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u, true
	}
	return nil, false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasToken(list, token string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, token) {
			return true
		}
	}
	return false
}

// finish trims leading and trailing whitespace that no entity covers.
func (p *parser) finish() Content {
	c := p.c
	text := p.out.b.String()
	runes := []rune(text)
	first, last := len(runes), 0 // code points that entities cover
	cover := func(pos, n int) {
		first, last = min(first, pos), max(last, pos+n)
	}
	for _, l := range c.Links {
		cover(l.Pos, l.Len)
	}
	for _, m := range c.Mentions {
		cover(m.Pos, m.Len)
	}
	for _, t := range c.Tags {
		cover(t.Pos, t.Len)
	}
	start, end := 0, len(runes)
	for start < end && start < first && unicode.IsSpace(runes[start]) {
		start++
	}
	for end > start && end > last && unicode.IsSpace(runes[end-1]) {
		end--
	}
	if start == 0 && end == len(runes) {
		c.Text = text
		return c
	}
	c.Text = string(runes[start:end])
	for i := range c.Links {
		c.Links[i].Pos -= start
	}
	for i := range c.Mentions {
		c.Mentions[i].Pos -= start
	}
	for i := range c.Tags {
		c.Tags[i].Pos -= start
	}
	return c
}

// writer builds plain text the way HTML shows it: whitespace collapses to
// one space, line breaks and spaces are held back until more text follows
// (so none lead or trail), and positions count code points.
type writer struct {
	b      strings.Builder
	n      int  // code points written
	breaks int  // newlines waiting for the next text
	space  bool // a space waiting for the next text
	pre    int  // depth of <pre>: whitespace kept as written
	// what was waiting when the first text came, for an anchor's caller
	leadBreaks int
	leadSpace  bool
}

func (w *writer) text(s string) {
	for _, r := range s {
		switch {
		case w.pre > 0 && (r == '\n' || r == ' ' || r == '\t'):
			w.emit(r)
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f':
			w.space = true
		case r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0):
			// NUL and other controls: never stored
		default:
			w.emit(r)
		}
	}
}

// flush writes what is waiting before new text.
func (w *writer) flush() {
	if w.n == 0 {
		w.leadBreaks, w.leadSpace = w.breaks, w.space
	} else if w.breaks > 0 {
		w.b.WriteString(strings.Repeat("\n", w.breaks))
		w.n += w.breaks
	} else if w.space && !strings.HasSuffix(w.b.String(), "\n") {
		w.b.WriteByte(' ')
		w.n++
	}
	w.breaks, w.space = 0, false
}

func (w *writer) emit(r rune) {
	w.flush()
	w.b.WriteRune(r)
	w.n++
}

// atomic writes s as one piece and returns its position and length.
func (w *writer) atomic(s string) (pos, n int) {
	if s == "" {
		return w.n, 0
	}
	w.flush()
	pos, n = w.n, utf8.RuneCountInString(s)
	w.b.WriteString(s)
	w.n += n
	return pos, n
}

// lineBreak is a <br>: each one counts.
func (w *writer) lineBreak() {
	w.breaks++
	w.space = false
}

// block separates blocks by at least n newlines.
func (w *writer) block(n int) {
	if n > 0 {
		w.breaks = max(w.breaks, n)
		w.space = false
	}
}

// lead carries whitespace waiting in an anchor's own writer to this one.
func (w *writer) lead(breaks int, space bool) {
	if breaks > 0 {
		w.block(breaks)
	} else if space && w.breaks == 0 {
		w.space = true
	}
}
