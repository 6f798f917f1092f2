package federation

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/pecan-social/pecan/app/text"
	"github.com/pecan-social/pecan/models"
)

// Real-shaped content: Mastodon 4.x wraps mentions in an h-card span and
// hides parts of long links; GoToSocial adds rel and target. Hosts and
// names are made up.
const (
	mastoExample = `<p><span class="h-card" translate="no"><a href="https://mastodon.example/@bob" class="u-url mention">@<span>bob</span></a></span> hello <a href="https://mastodon.example/tags/pecan" class="mention hashtag" rel="tag">#<span>pecan</span></a> see <a href="https://example.com/a/very/long/path" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span><span class="ellipsis">example.com/a/very/lo</span><span class="invisible">ng/path</span></a></p>`
	gtsMention   = `<span class="h-card"><a href="https://gts.example/@alice" class="u-url mention" rel="nofollow noreferrer noopener" target="_blank">@<span>alice</span></a></span>`
)

var (
	bobTag   = NoteTag{Type: "Mention", Href: "https://mastodon.example/users/bob", Name: "@bob@mastodon.example"}
	aliceTag = NoteTag{Type: "Mention", Href: "https://gts.example/users/alice", Name: "@alice@gts.example"}
)

type parseCase struct {
	name string
	html string
	tags []NoteTag
	want Content
}

var parseCases = []parseCase{
	{
		name: "mastodon mention tag hashtag and shortened link",
		html: mastoExample,
		tags: []NoteTag{bobTag, {Type: "Hashtag", Href: "https://mastodon.example/tags/pecan", Name: "#pecan"}},
		want: Content{
			Text:     "@bob@mastodon.example hello #pecan see example.com/a/very/lo…",
			Mentions: []RemoteMention{{Href: "https://mastodon.example/users/bob", Name: "bob@mastodon.example", Pos: 0, Len: 21}},
			Tags:     []models.Tag{{Text: "pecan", Pos: 28, Len: 6}},
			Links:    []models.Link{{URL: "https://example.com/a/very/long/path", Text: "example.com/a/very/lo…", Pos: 39, Len: 22}},
		},
	},
	{
		name: "mention not in the tag array takes the link's host and href",
		html: mastoExample,
		want: Content{
			Text:     "@bob@mastodon.example hello #pecan see example.com/a/very/lo…",
			Mentions: []RemoteMention{{Href: "https://mastodon.example/@bob", Name: "bob@mastodon.example", Pos: 0, Len: 21}},
			Tags:     []models.Tag{{Text: "pecan", Pos: 28, Len: 6}},
			Links:    []models.Link{{URL: "https://example.com/a/very/long/path", Text: "example.com/a/very/lo…", Pos: 39, Len: 22}},
		},
	},
	{
		name: "gotosocial mention matched by href",
		html: `<p>hi ` + gtsMention + `!</p>`,
		tags: []NoteTag{{Type: "Mention", Href: "https://gts.example/@alice", Name: "@alice@gts.example"}},
		want: Content{
			Text:     "hi @alice@gts.example!",
			Mentions: []RemoteMention{{Href: "https://gts.example/@alice", Name: "alice@gts.example", Pos: 3, Len: 18}},
		},
	},
	{
		name: "gotosocial mention matched by name, href from the tag",
		html: `<p>hi ` + gtsMention + `!</p>`,
		tags: []NoteTag{bobTag, aliceTag},
		want: Content{
			Text:     "hi @alice@gts.example!",
			Mentions: []RemoteMention{{Href: "https://gts.example/users/alice", Name: "alice@gts.example", Pos: 3, Len: 18}},
		},
	},
	{
		name: "handle domain differs from web host",
		html: `<p><span class="h-card"><a href="https://social.example.com/@dana" class="u-url mention">@<span>dana</span></a></span> hi</p>`,
		tags: []NoteTag{{Type: "Mention", Href: "https://social.example.com/users/dana", Name: "@dana@example.com"}},
		want: Content{
			Text:     "@dana@example.com hi",
			Mentions: []RemoteMention{{Href: "https://social.example.com/users/dana", Name: "dana@example.com", Pos: 0, Len: 17}},
		},
	},
	{
		name: "same username on two hosts",
		html: `<p><a href="https://a.example/@sam" class="u-url mention">@<span>sam</span></a> <a href="https://b.example/@sam" class="u-url mention">@<span>sam</span></a></p>`,
		tags: []NoteTag{
			{Type: "Mention", Href: "https://b.example/users/sam", Name: "@sam@b.example"},
			{Type: "Mention", Href: "https://a.example/users/sam", Name: "@sam@a.example"},
		},
		want: Content{
			Text: "@sam@a.example @sam@b.example",
			Mentions: []RemoteMention{
				{Href: "https://a.example/users/sam", Name: "sam@a.example", Pos: 0, Len: 14},
				{Href: "https://b.example/users/sam", Name: "sam@b.example", Pos: 15, Len: 14},
			},
		},
	},
	{
		name: "mention without class found through the tag href",
		html: `<p>cc <a href="https://mastodon.example/users/bob">@bob</a></p>`,
		tags: []NoteTag{bobTag},
		want: Content{
			Text:     "cc @bob@mastodon.example",
			Mentions: []RemoteMention{{Href: "https://mastodon.example/users/bob", Name: "bob@mastodon.example", Pos: 3, Len: 21}},
		},
	},
	{
		name: "full handle shown is not doubled",
		html: `<p><span class="h-card"><a class="u-url mention" href="https://pleroma.example/users/eve">@<span>eve@pleroma.example</span></a></span> yo</p>`,
		want: Content{
			Text:     "@eve@pleroma.example yo",
			Mentions: []RemoteMention{{Href: "https://pleroma.example/users/eve", Name: "eve@pleroma.example", Pos: 0, Len: 20}},
		},
	},
	{
		name: "@ link that is no mention stays a link",
		html: `<p>see <a href="https://example.com/@foo">@foo</a></p>`,
		want: Content{
			Text:  "see @foo",
			Links: []models.Link{{URL: "https://example.com/@foo", Text: "@foo", Pos: 4, Len: 4}},
		},
	},
	{
		name: "hashtags by class, by rel, by text; not in plain text",
		html: `<p>#plain <a href="https://x.example/t/a" class="hashtag">#A</a> <a href="https://x.example/t/b" rel="nofollow tag">#b_c</a> <a href="https://x.example/t/c">#c</a> <a href="https://x.example/t/d" class="mention hashtag">d</a></p>`,
		want: Content{
			Text:  "#plain #A #b_c #c d",
			Tags:  []models.Tag{{Text: "A", Pos: 7, Len: 2}, {Text: "b_c", Pos: 10, Len: 4}, {Text: "c", Pos: 15, Len: 2}},
			Links: []models.Link{{URL: "https://x.example/t/d", Text: "d", Pos: 18, Len: 1}},
		},
	},
	{
		name: "paragraphs, br and entities",
		html: "<p>one &amp; two &lt;b&gt; it&#39;s&nbsp;ok</p><p>line<br>break<br><br>twice</p>\n<p> </p>",
		want: Content{Text: "one & two <b> it's\u00a0ok\n\nline\nbreak\n\ntwice"},
	},
	{
		name: "emoji and non-latin text",
		html: `<p>Привет 👋🏽 <a href="https://mastodon.example/tags/café" class="mention hashtag" rel="tag">#<span>café</span></a> 日本語 <span class="h-card"><a href="https://ü.example/@zoë" class="u-url mention">@<span>zoë</span></a></span> <a href="https://例え.jp/パス">例え.jp/パス</a> 🥧</p>`,
		want: Content{
			Text:     "Привет 👋🏽 #café 日本語 @zoë@ü.example 例え.jp/パス 🥧",
			Tags:     []models.Tag{{Text: "café", Pos: 10, Len: 5}},
			Mentions: []RemoteMention{{Href: "https://ü.example/@zoë", Name: "zoë@ü.example", Pos: 20, Len: 14}},
			Links:    []models.Link{{URL: "https://例え.jp/パス", Text: "例え.jp/パス", Pos: 35, Len: 8}},
		},
	},
	{
		name: "whitespace collapses, pre keeps it",
		html: "<p>  a\n\t b  </p><pre><code>x  := 1\n  y</code></pre><ul><li>one</li><li>two</li></ul><blockquote><p>q</p></blockquote>",
		want: Content{Text: "a b\n\nx  := 1\n  y\n\none\ntwo\n\nq"},
	},
	{
		name: "space inside a link moves outside it",
		html: `a<a href="https://x.example/"> b </a>c`,
		want: Content{Text: "a b c", Links: []models.Link{{URL: "https://x.example/", Text: "b", Pos: 2, Len: 1}}},
	},
	{
		name: "scheme lower-cased",
		html: `<a href="HTTPS://X.example/P">x</a>`,
		want: Content{Text: "x", Links: []models.Link{{URL: "https://X.example/P", Text: "x", Pos: 0, Len: 1}}},
	},
	{
		name: "unsafe and relative hrefs are plain text",
		html: `<p><a href="javascript:alert(1)">x</a> <a href="data:text/html,<script>alert(1)</script>">y</a> <a href="/local">z</a> <a href="JAVASCRIPT:alert(1)" class="mention">@w</a> <a>v</a> <a href="https://ok.example/a b">u</a></p>`,
		want: Content{Text: "x y z @w v u"},
	},
	{
		name: "hostile markup leaves only visible text",
		html: `<script>alert(1)</script><style>body{}</style><!-- secret --><p style="color:red">hi<img src=x onerror=alert(1)></p><iframe src="https://evil.example">frame</iframe><textarea><b>t</b></textarea><svg><text>s</text></svg><xmp><b>x</b></xmp><title>t</title>`,
		want: Content{Text: "hi"},
	},
	{
		name: "nul, controls and invalid utf-8",
		html: "<p>a\x00b\x01c\xffd</p>",
		want: Content{Text: "abc\ufffdd"},
	},
	{
		name: "nesting deeper than the parser takes keeps the text",
		html: "<p>deep " + strings.Repeat("<span>", 600) + `<a href="https://x.example/">link</a> &amp; <script>alert(1)</script>more<br>line</p><p>next</p>`,
		want: Content{Text: "deep link & more\nline\n\nnext"},
	},
	{name: "empty", html: "", want: Content{}},
	{name: "only markup", html: "<p><br></p><p></p>", want: Content{}},
}

func TestParseContent(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseContent(tc.html, tc.tags)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseContent\n got  %+v\n want %+v", got, tc.want)
			}
			if err := checkEntities(got); err != nil {
				t.Error(err)
			}
		})
	}
}

// checkEntities checks that every entity lies inside Text and that the
// code points it covers read as the entity says.
func checkEntities(c Content) error {
	runes := []rune(c.Text)
	at := func(pos, n int) (string, error) {
		if pos < 0 || n <= 0 || pos+n > len(runes) {
			return "", fmt.Errorf("entity [%d,+%d) outside text of %d code points", pos, n, len(runes))
		}
		return string(runes[pos : pos+n]), nil
	}
	for _, m := range c.Mentions {
		s, err := at(m.Pos, m.Len)
		if err != nil {
			return err
		}
		if s != "@"+m.Name {
			return fmt.Errorf("mention %+v covers %q", m, s)
		}
	}
	for _, tg := range c.Tags {
		s, err := at(tg.Pos, tg.Len)
		if err != nil {
			return err
		}
		if s != "#"+tg.Text {
			return fmt.Errorf("tag %+v covers %q", tg, s)
		}
	}
	for _, l := range c.Links {
		s, err := at(l.Pos, l.Len)
		if err != nil {
			return err
		}
		if s != l.Text {
			return fmt.Errorf("link %+v covers %q", l, s)
		}
		if !strings.HasPrefix(l.URL, "http://") && !strings.HasPrefix(l.URL, "https://") {
			return fmt.Errorf("link %+v is not http(s)", l)
		}
	}
	return nil
}

var hostile = []string{
	`<script>alert(1)</script>`,
	`<SCRIPT SRC=https://evil.example/x.js></SCRIPT>`,
	`<img src=x onerror=alert(1)>`,
	`<a href="javascript:alert(1)">x</a>`,
	`<a href="  JaVaScRiPt:alert(1)">x</a>`,
	`<a href="java&#x09;script:alert(1)">x</a>`,
	`<style>body{}</style>`,
	`<p style="background:url(javascript:alert(1))">css</p>`,
	`<!-- comment --><p>c</p>`,
	`<iframe src="https://evil.example"></iframe>`,
	`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>`,
	`<span class="invisible" onclick="alert(1)" style="display:block">s</span>`,
	`<svg onload=alert(1)><script>alert(1)</script></svg>`,
	`<math><mi xlink:href="javascript:alert(1)">m</mi></math>`,
	`<p onmouseover="alert(1)">p</p><form action="https://evil.example"><input></form>`,
	`<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">`,
	`<a href="https://ok.example" onclick="alert(1)" style="color:red" target="_blank">ok</a>`,
	`<<script>script>alert(1)<</script>/script>`,
}

func TestSanitizeHTMLRemovesHostileMarkup(t *testing.T) {
	forbidden := []string{"<script", "script>", "onerror", "onload", "onclick", "onmouseover", "javascript:", "<style", "style=", "<iframe", "data:", "<img", "<svg", "<math", "<object", "<embed", "<form", "<!--", "target="}
	for _, in := range hostile {
		out := strings.ToLower(SanitizeHTML(in))
		for _, f := range forbidden {
			if strings.Contains(out, f) {
				t.Errorf("SanitizeHTML(%q) = %q contains %q", in, out, f)
			}
		}
	}
}

func TestSanitizeHTMLKeepsMastodonMarkup(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{mastoExample, `<p><span class="h-card"><a href="https://mastodon.example/@bob" class="u-url mention">@<span>bob</span></a></span> hello <a href="https://mastodon.example/tags/pecan" class="mention hashtag" rel="tag">#<span>pecan</span></a> see <a href="https://example.com/a/very/long/path" rel="nofollow noopener"><span class="invisible">https://</span><span class="ellipsis">example.com/a/very/lo</span><span class="invisible">ng/path</span></a></p>`},
		{`<p><span class="h-card evil p-name">x</span> <span class="bad">y</span></p>`, `<p><span class="h-card p-name">x</span> <span>y</span></p>`},
		{`<del>d</del><pre><code>c</code></pre><em>e</em><strong>s</strong><b>b</b><i>i</i><u>u</u><ul><li>l</li></ul><ol><li>o</li></ol><blockquote>q</blockquote>`, `<del>d</del><pre><code>c</code></pre><em>e</em><strong>s</strong><b>b</b><i>i</i><u>u</u><ul><li>l</li></ul><ol><li>o</li></ol><blockquote>q</blockquote>`},
		{`<h1>Title</h1><div>body</div>`, `Titlebody`},
		{`<a href="http://x.example/">x</a><a href="javascript:alert(1)">y</a>`, `<a href="http://x.example/">x</a>y`},
		{`<script>alert(1)</script><style>p{}</style>kept`, `kept`},
	} {
		if got := SanitizeHTML(tc.in); got != tc.want {
			t.Errorf("SanitizeHTML(%q)\n got  %q\n want %q", tc.in, got, tc.want)
		}
	}
}

// ParseContent reads raw HTML itself; sanitising first must not change
// what it finds in content that only uses kept markup.
func TestParseContentSameAfterSanitizing(t *testing.T) {
	for _, tc := range parseCases {
		raw := ParseContent(tc.html, tc.tags)
		clean := ParseContent(SanitizeHTML(tc.html), tc.tags)
		// bluemonday percent-encodes non-ASCII URLs
		for i := range clean.Links {
			clean.Links[i].URL, _ = url.PathUnescape(clean.Links[i].URL)
		}
		for i := range clean.Mentions {
			clean.Mentions[i].Href, _ = url.PathUnescape(clean.Mentions[i].Href)
		}
		if !reflect.DeepEqual(raw, clean) && !strings.Contains(tc.name, "whitespace") && !strings.Contains(tc.name, "hostile") {
			t.Errorf("%s: sanitised first\n got  %+v\n want %+v", tc.name, clean, raw)
		}
	}
}

func TestHostileContentIsPlainText(t *testing.T) {
	for _, in := range hostile {
		c := ParseContent(in, nil)
		for _, l := range c.Links {
			if l.URL != "https://ok.example" {
				t.Errorf("ParseContent(%q) has link %+v", in, l)
			}
		}
		// "<<script>script>…" leaves the text "</script>": plain text, not markup
		if strings.Contains(c.Text, "<script") || strings.Contains(c.Text, "alert") {
			t.Errorf("ParseContent(%q).Text = %q", in, c.Text)
		}
	}
}

// What ParseContent produces, rendered by app/text.HTML as remote posts
// will be, is well-formed, safe HTML that shows exactly Text.
func TestParseContentRendersSafeHTML(t *testing.T) {
	inputs := append([]string{}, hostile...)
	for _, tc := range parseCases {
		inputs = append(inputs, tc.html)
	}
	for _, in := range inputs {
		c := ParseContent(in, []NoteTag{bobTag, aliceTag})
		out := text.HTML(c.Text, toEntities(c))
		lower := strings.ToLower(out)
		for _, f := range []string{"<script", "onerror", "javascript:", "<style", "<iframe", "style="} {
			if strings.Contains(lower, f) {
				t.Errorf("HTML for %q contains %q: %s", in, f, out)
			}
		}
		if err := wellFormed(out); err != nil {
			t.Errorf("HTML for %q: %v: %s", in, err, out)
		}
		if got := shownText(t, out); got != c.Text {
			t.Errorf("HTML for %q shows %q, want %q", in, got, c.Text)
		}
	}
	// entities really became markup
	c := ParseContent(mastoExample, []NoteTag{bobTag})
	out := text.HTML(c.Text, toEntities(c))
	for _, want := range []string{`data-mention-name="bob@mastodon.example"`, `data-tag-name="pecan"`, `<a href="https://example.com/a/very/long/path">example.com/a/very/lo…</a>`} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %s: %s", want, out)
		}
	}
}

func toEntities(c Content) models.Entities {
	e := models.Entities{Links: c.Links, Tags: c.Tags}
	for i, m := range c.Mentions {
		e.Mentions = append(e.Mentions, models.Mention{ID: fmt.Sprint(1000 + i), Text: m.Name, Pos: m.Pos, Len: m.Len})
	}
	return e
}

// wellFormed checks that every element is closed in order.
func wellFormed(s string) error {
	z := html.NewTokenizer(strings.NewReader(s))
	var open []string
	for {
		switch z.Next() {
		case html.ErrorToken:
			if len(open) > 0 {
				return fmt.Errorf("unclosed %v", open)
			}
			return nil
		case html.StartTagToken:
			name, _ := z.TagName()
			if a := atom.Lookup(name); a != atom.Br {
				open = append(open, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(open) == 0 || open[len(open)-1] != string(name) {
				return fmt.Errorf("unexpected </%s> with %v open", name, open)
			}
			open = open[:len(open)-1]
		case html.CommentToken, html.DoctypeToken:
			return fmt.Errorf("unexpected %q", z.Token().String())
		}
	}
}

// shownText is the text a browser shows for s, with <br> as "\n".
func shownText(t *testing.T, s string) string {
	t.Helper()
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && n.DataAtom == atom.Br:
			b.WriteString("\n")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return b.String()
}

// noteOf returns the Note in a fixture: the document itself or its object.
func noteOf(doc map[string]any) (map[string]any, bool) {
	if doc["type"] == "Note" {
		return doc, true
	}
	obj, ok := doc["object"].(map[string]any)
	if ok && obj["type"] == "Note" {
		return obj, true
	}
	return nil, false
}

// fixtureTags reads a Note's tag property, an array or (GoToSocial, one
// tag) a single object.
func fixtureTags(note map[string]any) []NoteTag {
	var raw []any
	switch v := note["tag"].(type) {
	case []any:
		raw = v
	case map[string]any:
		raw = []any{v}
	}
	var tags []NoteTag
	for _, r := range raw {
		m, _ := r.(map[string]any)
		str := func(k string) string { s, _ := m[k].(string); return s }
		tags = append(tags, NoteTag{Type: str("type"), Href: str("href"), Name: str("name")})
	}
	return tags
}

func TestFixtures(t *testing.T) {
	mastoNote := Content{
		Text:     "@alice@gts.example Trying #Pecan today: pecan.example/docs/federation/…\n\nCrème brûlée & 🥧 for everyone!",
		Mentions: []RemoteMention{{Href: "https://gts.example/users/alice", Name: "alice@gts.example", Pos: 0, Len: 18}},
		Tags:     []models.Tag{{Text: "Pecan", Pos: 26, Len: 6}},
		Links:    []models.Link{{URL: "https://pecan.example/docs/federation/getting-started", Text: "pecan.example/docs/federation/…", Pos: 40, Len: 31}},
	}
	mastoEdit := mastoNote
	mastoEdit.Text = strings.Replace(mastoNote.Text, "\n\n", "\n\nEdit: ", 1)
	gtsNote := Content{
		Text:     "hey @bob@mastodon.example, welcome to the #Fediverse! Привет, мир 👋\n\ndocs: docs.gts.example/en/latest/",
		Mentions: []RemoteMention{{Href: "https://mastodon.example/users/bob", Name: "bob@mastodon.example", Pos: 4, Len: 21}},
		Tags:     []models.Tag{{Text: "Fediverse", Pos: 42, Len: 10}},
		Links:    []models.Link{{URL: "https://docs.gts.example/en/latest/", Text: "docs.gts.example/en/latest/", Pos: 75, Len: 27}},
	}
	fixtures := map[string]struct {
		typ     string
		content *Content // the Note's parsed content, if it has a Note
		check   func(doc map[string]any) error
	}{
		"mastodon_actor.json":       {typ: "Person", check: actorCheck("#main-key", true)},
		"mastodon_note.json":        {typ: "Note", content: &mastoNote},
		"mastodon_create.json":      {typ: "Create", content: &mastoNote},
		"mastodon_update.json":      {typ: "Update", content: &mastoEdit, check: hasPath("object", "updated")},
		"mastodon_delete.json":      {typ: "Delete", check: objectType("Tombstone")},
		"mastodon_announce.json":    {typ: "Announce", check: hasPath("object")},
		"mastodon_follow.json":      {typ: "Follow", check: hasPath("object")},
		"mastodon_accept.json":      {typ: "Accept", check: objectType("Follow")},
		"mastodon_undo_follow.json": {typ: "Undo", check: objectType("Follow")},
		"mastodon_like.json":        {typ: "Like", check: hasPath("object")},
		"gotosocial_actor.json":     {typ: "Person", check: actorCheck("/main-key", false)},
		"gotosocial_note.json":      {typ: "Note", content: &gtsNote},
		"gotosocial_create.json":    {typ: "Create", content: &gtsNote},
	}
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(fixtures) {
		t.Errorf("found %d fixtures, want %d", len(files), len(fixtures))
	}
	for name, f := range fixtures {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			if doc["type"] != f.typ {
				t.Errorf("type %v, want %s", doc["type"], f.typ)
			}
			if id, _ := doc["id"].(string); !strings.HasPrefix(id, "https://mastodon.example/") && !strings.HasPrefix(id, "https://gts.example/") {
				t.Errorf("id %q is not on a fixture host", id)
			}
			if f.check != nil {
				if err := f.check(doc); err != nil {
					t.Error(err)
				}
			}
			note, ok := noteOf(doc)
			if ok != (f.content != nil) {
				t.Fatalf("has a Note: %v", ok)
			}
			if !ok {
				return
			}
			content, _ := note["content"].(string)
			got := ParseContent(content, fixtureTags(note))
			if !reflect.DeepEqual(got, *f.content) {
				t.Errorf("content\n got  %+v\n want %+v", got, *f.content)
			}
			if err := checkEntities(got); err != nil {
				t.Error(err)
			}
		})
	}
}

func hasPath(keys ...string) func(map[string]any) error {
	return func(doc map[string]any) error {
		var v any = doc
		for _, k := range keys {
			m, ok := v.(map[string]any)
			if !ok || m[k] == nil {
				return fmt.Errorf("no %s", strings.Join(keys, "."))
			}
			v = m[k]
		}
		return nil
	}
}

func objectType(typ string) func(map[string]any) error {
	return func(doc map[string]any) error {
		obj, _ := doc["object"].(map[string]any)
		if obj == nil || obj["type"] != typ || obj["id"] == nil {
			return fmt.Errorf("object is not an embedded %s with an id: %v", typ, doc["object"])
		}
		return nil
	}
}

func actorCheck(keySuffix string, sharedInbox bool) func(map[string]any) error {
	return func(doc map[string]any) error {
		id, _ := doc["id"].(string)
		key, _ := doc["publicKey"].(map[string]any)
		if key == nil || key["id"] != id+keySuffix || key["owner"] != id {
			return fmt.Errorf("publicKey %v does not belong to %s", key, id)
		}
		if pem, _ := key["publicKeyPem"].(string); !strings.HasPrefix(pem, "-----BEGIN PUBLIC KEY-----\n") {
			return fmt.Errorf("publicKeyPem %q", pem)
		}
		if doc["preferredUsername"] == nil || doc["inbox"] == nil {
			return fmt.Errorf("no preferredUsername or inbox")
		}
		if sharedInbox {
			if err := hasPath("endpoints", "sharedInbox")(doc); err != nil {
				return err
			}
			if err := hasPath("icon", "url")(doc); err != nil {
				return err
			}
		}
		return nil
	}
}

func FuzzParseContent(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.html, bobTag.Href, bobTag.Name)
	}
	for _, in := range hostile {
		f.Add(in, "", "")
	}
	f.Add(`<b>x</b><i>y</i><a href="https://x.example"><b>z</b></a>`, "https://x.example", "@<b>@x")
	f.Add(`<p><a href="https://a.example/@u" class="mention">@u</a></p>`, "https://a.example/@u", "@u@a.example")
	f.Fuzz(func(t *testing.T, in, href, name string) {
		tags := []NoteTag{{Type: "Mention", Href: href, Name: name}, {Type: "Hashtag", Href: href, Name: name}}
		c := parseContent(in, tags) // without ParseContent's recover, so panics show
		if !utf8.ValidString(c.Text) || strings.ContainsRune(c.Text, 0) {
			t.Fatalf("Text %q is not valid NUL-free UTF-8", c.Text)
		}
		if err := checkEntities(c); err != nil {
			t.Fatalf("%v in %+v", err, c)
		}
		// Without character references, and with every "<" of the input
		// starting a tag, comment or doctype, no "<" can be text: a "<"
		// in Text could only come from markup.
		if !strings.Contains(in, "&") && everyLTStartsMarkup(in) && strings.Contains(c.Text, "<") {
			t.Fatalf("markup in Text %q", c.Text)
		}
	})
}

func everyLTStartsMarkup(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		if i+1 == len(s) {
			return false
		}
		c := s[i+1]
		if c == '/' && i+2 == len(s) {
			return false // "</" at the end is text
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' || c == '!' || c == '?') {
			return false
		}
	}
	return true
}
