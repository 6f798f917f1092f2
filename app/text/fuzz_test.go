package text

import (
	"io"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/pecan-social/pecan/models"
)

// checkInvariants holds for any input: entities lie inside the text and
// name what is there, and the HTML is balanced and carries no live markup
// from the input.
func checkInvariants(t *testing.T, text string, e models.Entities) {
	t.Helper()
	runes := []rune(text)
	at := func(pos, n int) (string, bool) {
		if pos < 0 || n <= 0 || pos+n > len(runes) {
			return "", false
		}
		return string(runes[pos : pos+n]), true
	}
	for _, l := range e.Links {
		if got, ok := at(l.Pos, l.Len); !ok || got != l.Text {
			t.Fatalf("link %+v does not match the text %q", l, text)
		}
		if l.AmendedLen != nil {
			if got, ok := at(l.Pos, *l.AmendedLen); !ok || !strings.HasSuffix(got, "]") || !strings.Contains(got, " [") {
				t.Fatalf("amended link %+v does not end in [domain] in %q", l, text)
			}
		}
		if !strings.HasPrefix(l.URL, "http://") && !strings.HasPrefix(l.URL, "https://") && !strings.HasPrefix(l.URL, "ftp://") && !strings.HasPrefix(l.URL, "gopher://") {
			t.Fatalf("link to a non-web URL %q", l.URL)
		}
	}
	for _, m := range e.Mentions {
		if got, ok := at(m.Pos, m.Len); !ok || got != "@"+m.Text {
			t.Fatalf("mention %+v does not match the text %q", m, text)
		}
	}
	for _, tag := range e.Tags {
		if got, ok := at(tag.Pos, tag.Len); !ok || got != "#"+tag.Text {
			t.Fatalf("tag %+v does not match the text %q", tag, text)
		}
		if n := NormalizeTag(tag.Text); strings.TrimFunc(n, unicode.IsDigit) == "" {
			t.Fatalf("tag %+v normalises to %q, which is no tag", tag, n)
		}
	}
	if n := Length(text, e); n > len(runes) || n < 0 {
		t.Fatalf("length %d of a %d-code-point text", n, len(runes))
	}
	e.Mentions = withIDs(e.Mentions)
	checkHTML(t, HTML(text, e))
}

func withIDs(ms []models.Mention) []models.Mention {
	out := make([]models.Mention, len(ms))
	for i, m := range ms {
		m.ID = "1"
		out[i] = m
	}
	return out
}

var allowedTags = map[string]bool{"span": true, "a": true, "br": true}

func checkHTML(t *testing.T, out string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(out))
	var open []string
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatalf("html does not parse: %v\n%s", z.Err(), out)
			}
			if len(open) != 0 {
				t.Fatalf("unclosed %v in %s", open, out)
			}
			return
		case html.StartTagToken:
			name, _ := z.TagName()
			if !allowedTags[string(name)] {
				t.Fatalf("unexpected <%s> in %s", name, out)
			}
			if string(name) != "br" {
				open = append(open, string(name))
			}
			checkAttributes(t, z, out)
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(open) == 0 || open[len(open)-1] != string(name) {
				t.Fatalf("</%s> closes %v in %s", name, open, out)
			}
			open = open[:len(open)-1]
		}
	}
}

func checkAttributes(t *testing.T, z *html.Tokenizer, out string) {
	t.Helper()
	for {
		key, val, more := z.TagAttr()
		if string(key) == "href" && !strings.HasPrefix(string(val), "http") && !strings.HasPrefix(string(val), "ftp://") && !strings.HasPrefix(string(val), "gopher://") {
			t.Fatalf("href %q in %s", val, out)
		}
		if strings.HasPrefix(string(key), "on") {
			t.Fatalf("event handler attribute %s in %s", key, out)
		}
		if !more {
			return
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in, true, true)
	}
	f.Add("[a](http://x.com \"t\") [b](y.com) @c #d https://e.example", false, true)
	f.Add("htTp://0", true, true) // a scheme in mixed case once made an href the HTML check refused
	f.Add("<script>alert(1)</script> [x](javascript:alert(1)) \"><img onerror=x>", true, false)
	f.Fuzz(func(t *testing.T, in string, links, markdown bool) {
		if !utf8.ValidString(in) {
			in = strings.ToValidUTF8(in, "\uFFFD")
		}
		text, e := Parse(in, Options{ParseLinks: links, ParseMarkdownLinks: markdown})
		checkInvariants(t, text, e)
	})
}

// benchmarkPost is 256 characters with three links (one markdown), two
// mentions and two tags.
var benchmarkPost = func() string {
	s := "@alice and @bob: read [the release notes](https://pecan.example/releases/v1 \"Release\") " +
		"and https://pnut.io/docs plus example.org/path before the #launch party #Pecan_News today. "
	text, e := Parse(s, Options{ParseLinks: true, ParseMarkdownLinks: true})
	return s + strings.Repeat("x", 256-Length(text, e))
}()

func BenchmarkParse(b *testing.B) {
	text, e := Parse(benchmarkPost, Options{ParseLinks: true, ParseMarkdownLinks: true})
	if Length(text, e) != 256 || len(e.Links) != 3 || len(e.Mentions) != 2 || len(e.Tags) != 2 {
		b.Fatalf("benchmark post is not what it claims: length %d, %+v", Length(text, e), e)
	}
	b.ReportAllocs()
	for b.Loop() {
		text, e := Parse(benchmarkPost, Options{ParseLinks: true, ParseMarkdownLinks: true})
		_ = HTML(text, e)
	}
}

// BenchmarkHTML measures rendering alone: posts store text and entities
// and render HTML on every read, so this is the cost a read pays.
// BenchmarkHTML renders a post's HTML afresh, as for a post not rendered
// lately; BenchmarkHTMLRemembered is the same post rendered again.
func BenchmarkHTML(b *testing.B) {
	text, e := Parse(benchmarkPost, Options{ParseLinks: true, ParseMarkdownLinks: true})
	e.Mentions = withIDs(e.Mentions)
	b.ReportAllocs()
	for b.Loop() {
		_ = renderHTML(text, e)
	}
}

func BenchmarkHTMLRemembered(b *testing.B) {
	text, e := Parse(benchmarkPost, Options{ParseLinks: true, ParseMarkdownLinks: true})
	e.Mentions = withIDs(e.Mentions)
	_ = HTML(text, e)
	b.ReportAllocs()
	for b.Loop() {
		_ = HTML(text, e)
	}
}
