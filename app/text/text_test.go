package text

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pecan-social/pecan/models"
)

func ptr(n int) *int { return &n }

// parseCases were written by hand; their positions were counted in code
// points by a script independent of this package.
var parseCases = []struct {
	name     string
	in       string
	opts     Options
	text     string
	links    []models.Link
	mentions []models.Mention
	tags     []models.Tag
}{
	{"plain text", "hello world", Options{ParseLinks: true, ParseMarkdownLinks: true}, "hello world",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"https link", "see https://pnut.io/docs", Options{ParseLinks: true, ParseMarkdownLinks: true}, "see https://pnut.io/docs",
		[]models.Link{{URL: "https://pnut.io/docs", Text: "https://pnut.io/docs", Pos: 4, Len: 20}},
		[]models.Mention{},
		[]models.Tag{}},
	{"http link", "go to http://example.com now", Options{ParseLinks: true, ParseMarkdownLinks: true}, "go to http://example.com now",
		[]models.Link{{URL: "http://example.com", Text: "http://example.com", Pos: 6, Len: 18}},
		[]models.Mention{},
		[]models.Tag{}},
	{"trailing period", "see https://pnut.io/docs.", Options{ParseLinks: true, ParseMarkdownLinks: true}, "see https://pnut.io/docs.",
		[]models.Link{{URL: "https://pnut.io/docs", Text: "https://pnut.io/docs", Pos: 4, Len: 20}},
		[]models.Mention{},
		[]models.Tag{}},
	{"trailing comma", "a https://a.example/x, b", Options{ParseLinks: true, ParseMarkdownLinks: true}, "a https://a.example/x, b",
		[]models.Link{{URL: "https://a.example/x", Text: "https://a.example/x", Pos: 2, Len: 19}},
		[]models.Mention{},
		[]models.Tag{}},
	{"trailing exclamation", "wow https://a.example/x!", Options{ParseLinks: true, ParseMarkdownLinks: true}, "wow https://a.example/x!",
		[]models.Link{{URL: "https://a.example/x", Text: "https://a.example/x", Pos: 4, Len: 19}},
		[]models.Mention{},
		[]models.Tag{}},
	{"trailing paren", "(see https://a.example/x)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "(see https://a.example/x)",
		[]models.Link{{URL: "https://a.example/x", Text: "https://a.example/x", Pos: 5, Len: 19}},
		[]models.Mention{},
		[]models.Tag{}},
	{"trailing ellipsis", "more at https://a.example/…", Options{ParseLinks: true, ParseMarkdownLinks: true}, "more at https://a.example/…",
		[]models.Link{{URL: "https://a.example/", Text: "https://a.example/", Pos: 8, Len: 18}},
		[]models.Mention{},
		[]models.Tag{}},
	{"balanced parens in url", "(https://example.com/a_(b))", Options{ParseLinks: true, ParseMarkdownLinks: true}, "(https://example.com/a_(b))",
		[]models.Link{{URL: "https://example.com/a_(b)", Text: "https://example.com/a_(b)", Pos: 1, Len: 25}},
		[]models.Mention{},
		[]models.Tag{}},
	{"bare domain", "visit pnut.io, now", Options{ParseLinks: true, ParseMarkdownLinks: true}, "visit pnut.io, now",
		[]models.Link{{URL: "http://pnut.io", Text: "pnut.io", Pos: 6, Len: 7}},
		[]models.Mention{},
		[]models.Tag{}},
	{"bare domain with path", "file.txt and example.com/path?x=1", Options{ParseLinks: true, ParseMarkdownLinks: true}, "file.txt and example.com/path?x=1",
		[]models.Link{{URL: "http://example.com/path?x=1", Text: "example.com/path?x=1", Pos: 13, Len: 20}},
		[]models.Mention{},
		[]models.Tag{}},
	{"IDN host", "https://日本.example/パス, ok", Options{ParseLinks: true, ParseMarkdownLinks: true}, "https://日本.example/パス, ok",
		[]models.Link{{URL: "https://日本.example/パス", Text: "https://日本.example/パス", Pos: 0, Len: 21}},
		[]models.Mention{},
		[]models.Tag{}},
	{"punycode host", "xn--wgv71a.example is there", Options{ParseLinks: true, ParseMarkdownLinks: true}, "xn--wgv71a.example is there",
		[]models.Link{{URL: "http://xn--wgv71a.example", Text: "xn--wgv71a.example", Pos: 0, Len: 18}},
		[]models.Mention{},
		[]models.Tag{}},
	{"ftp and gopher", "ftp://files.example/x gopher://g.example", Options{ParseLinks: true, ParseMarkdownLinks: true}, "ftp://files.example/x gopher://g.example",
		[]models.Link{{URL: "ftp://files.example/x", Text: "ftp://files.example/x", Pos: 0, Len: 21}, {URL: "gopher://g.example", Text: "gopher://g.example", Pos: 22, Len: 18}},
		[]models.Mention{},
		[]models.Tag{}},
	{"scheme in any case is lowercased", "httP://0", Options{ParseLinks: true, ParseMarkdownLinks: true}, "httP://0",
		[]models.Link{{URL: "http://0", Text: "httP://0", Pos: 0, Len: 8}},
		[]models.Mention{},
		[]models.Tag{}},
	{"scheme and host lowercased, path kept", "see HTTP://Example.COM/Path?Q=A#F", Options{ParseLinks: true, ParseMarkdownLinks: true}, "see HTTP://Example.COM/Path?Q=A#F",
		[]models.Link{{URL: "http://example.com/Path?Q=A#F", Text: "HTTP://Example.COM/Path?Q=A#F", Pos: 4, Len: 29}},
		[]models.Mention{},
		[]models.Tag{}},
	{"userinfo keeps its case", "https://Bob@Files.Example/x", Options{ParseLinks: true, ParseMarkdownLinks: true}, "https://Bob@Files.Example/x",
		[]models.Link{{URL: "https://Bob@files.example/x", Text: "https://Bob@Files.Example/x", Pos: 0, Len: 27}},
		[]models.Mention{},
		[]models.Tag{}},
	{"bare domain host lowercased", "at Pnut.IO/About", Options{ParseLinks: true, ParseMarkdownLinks: true}, "at Pnut.IO/About",
		[]models.Link{{URL: "http://pnut.io/About", Text: "Pnut.IO/About", Pos: 3, Len: 13}},
		[]models.Mention{},
		[]models.Tag{}},
	{"IDN host keeps its letters", "https://日本.EXAMPLE/パス", Options{ParseLinks: true, ParseMarkdownLinks: true}, "https://日本.EXAMPLE/パス",
		[]models.Link{{URL: "https://日本.example/パス", Text: "https://日本.EXAMPLE/パス", Pos: 0, Len: 21}},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown url in upper case", "[docs](HTTPS://PNUT.IO/Docs)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "docs [pnut.io]",
		[]models.Link{{URL: "https://pnut.io/Docs", Text: "docs", Pos: 0, Len: 4, AmendedLen: ptr(14), Title: ""}},
		[]models.Mention{},
		[]models.Tag{}},
	{"mailto is not a link", "mailto:bob@example.org", Options{ParseLinks: true, ParseMarkdownLinks: true}, "mailto:bob@example.org",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"email is not a link or mention", "write bob@example.org", Options{ParseLinks: true, ParseMarkdownLinks: true}, "write bob@example.org",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"javascript is not a link", "javascript:alert(1)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "javascript:alert(1)",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"two links", "https://a.example and https://b.example", Options{ParseLinks: true, ParseMarkdownLinks: true}, "https://a.example and https://b.example",
		[]models.Link{{URL: "https://a.example", Text: "https://a.example", Pos: 0, Len: 17}, {URL: "https://b.example", Text: "https://b.example", Pos: 22, Len: 17}},
		[]models.Mention{},
		[]models.Tag{}},
	{"link with fragment keeps tag out", "https://x.com/#anchor #tag", Options{ParseLinks: true, ParseMarkdownLinks: true}, "https://x.com/#anchor #tag",
		[]models.Link{{URL: "https://x.com/#anchor", Text: "https://x.com/#anchor", Pos: 0, Len: 21}},
		[]models.Mention{},
		[]models.Tag{{Text: "tag", Pos: 22, Len: 4}}},
	{"link with mention-like path", "https://x.com/@bob is a profile", Options{ParseLinks: true, ParseMarkdownLinks: true}, "https://x.com/@bob is a profile",
		[]models.Link{{URL: "https://x.com/@bob", Text: "https://x.com/@bob", Pos: 0, Len: 18}},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown link", "read [the docs](https://pnut.io/docs)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "read the docs [pnut.io]",
		[]models.Link{{URL: "https://pnut.io/docs", Text: "the docs", Pos: 5, Len: 8, AmendedLen: ptr(18), Title: ""}},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown link with title", "[docs](https://pnut.io/docs \"The Docs\")", Options{ParseLinks: true, ParseMarkdownLinks: true}, "docs [pnut.io]",
		[]models.Link{{URL: "https://pnut.io/docs", Text: "docs", Pos: 0, Len: 4, AmendedLen: ptr(14), Title: "The Docs"}},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown anchor equals host", "[pnut.io](pnut.io/docs)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "pnut.io",
		[]models.Link{{URL: "http://pnut.io/docs", Text: "pnut.io", Pos: 0, Len: 7, AmendedLen: nil, Title: ""}},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown anchor equals host any case", "[PNUT.io](https://pnut.io)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "PNUT.io",
		[]models.Link{{URL: "https://pnut.io", Text: "PNUT.io", Pos: 0, Len: 7, AmendedLen: nil, Title: ""}},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown parens in url", "[Go](https://en.wikipedia.org/wiki/Go_(language)) rocks", Options{ParseLinks: true, ParseMarkdownLinks: true}, "Go [en.wikipedia.org] rocks",
		[]models.Link{{URL: "https://en.wikipedia.org/wiki/Go_(language)", Text: "Go", Pos: 0, Len: 2, AmendedLen: ptr(21), Title: ""}},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown nested brackets", "[[a]](http://x.com)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "[a] [x.com]",
		[]models.Link{{URL: "http://x.com", Text: "[a]", Pos: 0, Len: 3, AmendedLen: ptr(11), Title: ""}},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown url without scheme", "[home](example.com/me)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "home [example.com]",
		[]models.Link{{URL: "http://example.com/me", Text: "home", Pos: 0, Len: 4, AmendedLen: ptr(18), Title: ""}},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown bad url stays text", "[a](notaurl)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "[a](notaurl)",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown javascript stays text", "[x](javascript:alert(1))", Options{ParseLinks: true, ParseMarkdownLinks: true}, "[x](javascript:alert(1))",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown empty anchor", "[](http://x.com)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "[](http://x.com)",
		[]models.Link{{URL: "http://x.com", Text: "http://x.com", Pos: 3, Len: 12}},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown two links", "[a](https://a.example) and [b](https://b.example)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "a [a.example] and b [b.example]",
		[]models.Link{{URL: "https://a.example", Text: "a", Pos: 0, Len: 1, AmendedLen: ptr(13), Title: ""}, {URL: "https://b.example", Text: "b", Pos: 18, Len: 1, AmendedLen: ptr(13), Title: ""}},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown with emoji anchor", "[🎉 party](https://p.example)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "🎉 party [p.example]",
		[]models.Link{{URL: "https://p.example", Text: "🎉 party", Pos: 0, Len: 7, AmendedLen: ptr(19), Title: ""}},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown anchor holding a url", "[https://a.example](https://b.example)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "https://a.example [b.example]",
		[]models.Link{{URL: "https://b.example", Text: "https://a.example", Pos: 0, Len: 17, AmendedLen: ptr(29), Title: ""}},
		[]models.Mention{},
		[]models.Tag{}},
	{"markdown off", "[x](https://a.example)", Options{ParseLinks: true, ParseMarkdownLinks: false}, "[x](https://a.example)",
		[]models.Link{{URL: "https://a.example", Text: "https://a.example", Pos: 4, Len: 17}},
		[]models.Mention{},
		[]models.Tag{}},
	{"links off", "see https://a.example and pnut.io", Options{ParseLinks: false, ParseMarkdownLinks: true}, "see https://a.example and pnut.io",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"both off", "[x](https://a.example) @bob #t", Options{ParseLinks: false, ParseMarkdownLinks: false}, "[x](https://a.example) @bob #t",
		[]models.Link{},
		[]models.Mention{{Text: "bob", Pos: 23, Len: 4, IsLeading: false, IsCopy: false}},
		[]models.Tag{{Text: "t", Pos: 28, Len: 2}}},
	{"mention", "hi @bob", Options{ParseLinks: true, ParseMarkdownLinks: true}, "hi @bob",
		[]models.Link{},
		[]models.Mention{{Text: "bob", Pos: 3, Len: 4, IsLeading: false, IsCopy: false}},
		[]models.Tag{}},
	{"leading mention", "@bob hi", Options{ParseLinks: true, ParseMarkdownLinks: true}, "@bob hi",
		[]models.Link{},
		[]models.Mention{{Text: "bob", Pos: 0, Len: 4, IsLeading: true, IsCopy: false}},
		[]models.Tag{}},
	{"leading after punctuation", ">~-> @ugum1 yo!", Options{ParseLinks: true, ParseMarkdownLinks: true}, ">~-> @ugum1 yo!",
		[]models.Link{},
		[]models.Mention{{Text: "ugum1", Pos: 5, Len: 6, IsLeading: true, IsCopy: false}},
		[]models.Tag{}},
	{"leading run", "@a @b hi @c", Options{ParseLinks: true, ParseMarkdownLinks: true}, "@a @b hi @c",
		[]models.Link{},
		[]models.Mention{{Text: "a", Pos: 0, Len: 2, IsLeading: true, IsCopy: false}, {Text: "b", Pos: 3, Len: 2, IsLeading: true, IsCopy: false}, {Text: "c", Pos: 9, Len: 2, IsLeading: false, IsCopy: false}},
		[]models.Tag{}},
	{"copy mentions", "/@33MHz @jcoder hi", Options{ParseLinks: true, ParseMarkdownLinks: true}, "/@33MHz @jcoder hi",
		[]models.Link{},
		[]models.Mention{{Text: "33MHz", Pos: 1, Len: 6, IsLeading: true, IsCopy: true}, {Text: "jcoder", Pos: 8, Len: 7, IsLeading: true, IsCopy: true}},
		[]models.Tag{}},
	{"copy after text", "nice /@bob", Options{ParseLinks: true, ParseMarkdownLinks: true}, "nice /@bob",
		[]models.Link{},
		[]models.Mention{{Text: "bob", Pos: 6, Len: 4, IsLeading: false, IsCopy: true}},
		[]models.Tag{}},
	{"mentions after quotes and parens", "\"@bob\" '@amy' (@cat)", Options{ParseLinks: true, ParseMarkdownLinks: true}, "\"@bob\" '@amy' (@cat)",
		[]models.Link{},
		[]models.Mention{{Text: "bob", Pos: 1, Len: 4, IsLeading: true, IsCopy: false}, {Text: "amy", Pos: 8, Len: 4, IsLeading: true, IsCopy: false}, {Text: "cat", Pos: 15, Len: 4, IsLeading: true, IsCopy: false}},
		[]models.Tag{}},
	{"mention before punctuation", "thanks @bob.", Options{ParseLinks: true, ParseMarkdownLinks: true}, "thanks @bob.",
		[]models.Link{},
		[]models.Mention{{Text: "bob", Pos: 7, Len: 4, IsLeading: false, IsCopy: false}},
		[]models.Tag{}},
	{"mention inside word", "a@bob", Options{ParseLinks: true, ParseMarkdownLinks: true}, "a@bob",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"username too long", "@bob_smith_the_third_x1", Options{ParseLinks: true, ParseMarkdownLinks: true}, "@bob_smith_the_third_x1",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"username of twenty", "@abcdefghij0123456789", Options{ParseLinks: true, ParseMarkdownLinks: true}, "@abcdefghij0123456789",
		[]models.Link{},
		[]models.Mention{{Text: "abcdefghij0123456789", Pos: 0, Len: 21, IsLeading: true, IsCopy: false}},
		[]models.Tag{}},
	{"remote handle is one mention, not a link", "@bob@mastodon.social", Options{ParseLinks: true, ParseMarkdownLinks: true}, "@bob@mastodon.social",
		[]models.Link{},
		[]models.Mention{{Text: "bob@mastodon.social", Pos: 0, Len: 20, IsLeading: true}},
		[]models.Tag{}},
	{"remote handle with a port, then a full stop", "hi @amy@127.0.0.1:8080. ok", Options{ParseLinks: true, ParseMarkdownLinks: true}, "hi @amy@127.0.0.1:8080. ok",
		[]models.Link{},
		[]models.Mention{{Text: "amy@127.0.0.1:8080", Pos: 3, Len: 19}},
		[]models.Tag{}},
	{"a host needs a dot or a port", "@bob@localhost and @bob@x", Options{ParseLinks: true, ParseMarkdownLinks: true}, "@bob@localhost and @bob@x",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"handle at the end of a sentence", "ask @bob@pnut.example.", Options{ParseLinks: true, ParseMarkdownLinks: true}, "ask @bob@pnut.example.",
		[]models.Link{},
		[]models.Mention{{Text: "bob@pnut.example", Pos: 4, Len: 17}},
		[]models.Tag{}},
	{"mention on second line", "line1\nline2 @bob", Options{ParseLinks: true, ParseMarkdownLinks: true}, "line1\nline2 @bob",
		[]models.Link{},
		[]models.Mention{{Text: "bob", Pos: 12, Len: 4, IsLeading: false, IsCopy: false}},
		[]models.Tag{}},
	{"mention after slash in path", "a/@bob", Options{ParseLinks: true, ParseMarkdownLinks: true}, "a/@bob",
		[]models.Link{},
		[]models.Mention{{Text: "bob", Pos: 2, Len: 4, IsLeading: false, IsCopy: true}},
		[]models.Tag{}},
	{"lone at", "@ alone", Options{ParseLinks: true, ParseMarkdownLinks: true}, "@ alone",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"tag", "#coffee time", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#coffee time",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "coffee", Pos: 0, Len: 7}}},
	{"all digit tag", "#123 no", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#123 no",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"digits after an underscore are not a tag", "#_123 no", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#_123 no",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"digits before an underscore are not a tag", "#123_ no", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#123_ no",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"digits split by underscores are not a tag", "#1_2_3 no", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#1_2_3 no",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"underscores alone are not a tag", "#__ and #_", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#__ and #_",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"underscore and letters are a tag", "#_a1 yes", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#_a1 yes",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "_a1", Pos: 0, Len: 4}}},
	{"digits, underscore, letter are a tag", "#1_a yes", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#1_a yes",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "1_a", Pos: 0, Len: 4}}},
	{"digits then letters", "#123abc yes", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#123abc yes",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "123abc", Pos: 0, Len: 7}}},
	{"tag inside word", "a#b", Options{ParseLinks: true, ParseMarkdownLinks: true}, "a#b",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"accented tag", "#Ünïcödé", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#Ünïcödé",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "Ünïcödé", Pos: 0, Len: 8}}},
	{"japanese tag", "今日は #日本語 です", Options{ParseLinks: true, ParseMarkdownLinks: true}, "今日は #日本語 です",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "日本語", Pos: 4, Len: 4}}},
	{"cyrillic tag", "#кофе утром", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#кофе утром",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "кофе", Pos: 0, Len: 5}}},
	{"arabic tag", "#قهوة صباحا", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#قهوة صباحا",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "قهوة", Pos: 0, Len: 5}}},
	{"greek tag", "#καφές", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#καφές",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "καφές", Pos: 0, Len: 6}}},
	{"emoji tag", "#✨ shiny", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#✨ shiny",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "✨", Pos: 0, Len: 2}}},
	{"zwj emoji tag", "#👩‍👩‍👧 family", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#👩‍👩‍👧 family",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "👩‍👩‍👧", Pos: 0, Len: 6}}},
	{"underscore tag", "#the_lost children", Options{ParseLinks: true, ParseMarkdownLinks: true}, "#the_lost children",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "the_lost", Pos: 0, Len: 9}}},
	{"html entity is not a tag", "&#39; #x", Options{ParseLinks: true, ParseMarkdownLinks: true}, "&#39; #x",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "x", Pos: 6, Len: 2}}},
	{"lone hash", "# nothing", Options{ParseLinks: true, ParseMarkdownLinks: true}, "# nothing",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{}},
	{"combining marks", "éte #café", Options{ParseLinks: true, ParseMarkdownLinks: true}, "éte #café",
		[]models.Link{},
		[]models.Mention{},
		[]models.Tag{{Text: "café", Pos: 5, Len: 6}}},
	{"right to left", "שלום #עברית https://example.com", Options{ParseLinks: true, ParseMarkdownLinks: true}, "שלום #עברית https://example.com",
		[]models.Link{{URL: "https://example.com", Text: "https://example.com", Pos: 12, Len: 19}},
		[]models.Mention{},
		[]models.Tag{{Text: "עברית", Pos: 5, Len: 6}}},
	{"arabic with link and mention", "مرحبا @bob https://a.example", Options{ParseLinks: true, ParseMarkdownLinks: true}, "مرحبا @bob https://a.example",
		[]models.Link{{URL: "https://a.example", Text: "https://a.example", Pos: 11, Len: 17}},
		[]models.Mention{{Text: "bob", Pos: 6, Len: 4, IsLeading: false, IsCopy: false}},
		[]models.Tag{}},
	{"everything", "@amy look: [docs](https://pnut.io/docs) and https://x.example #Go_Lang #go", Options{ParseLinks: true, ParseMarkdownLinks: true}, "@amy look: docs [pnut.io] and https://x.example #Go_Lang #go",
		[]models.Link{{URL: "https://pnut.io/docs", Text: "docs", Pos: 11, Len: 4, AmendedLen: ptr(14), Title: ""}, {URL: "https://x.example", Text: "https://x.example", Pos: 30, Len: 17}},
		[]models.Mention{{Text: "amy", Pos: 0, Len: 4, IsLeading: true, IsCopy: false}},
		[]models.Tag{{Text: "Go_Lang", Pos: 48, Len: 8}, {Text: "go", Pos: 57, Len: 3}}},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			text, e := Parse(tc.in, tc.opts)
			if text != tc.text {
				t.Fatalf("text %q, want %q", text, tc.text)
			}
			if !reflect.DeepEqual(nonNil(e.Links), tc.links) {
				t.Errorf("links\n got %+v\nwant %+v", e.Links, tc.links)
			}
			if !reflect.DeepEqual(nonNil(e.Mentions), tc.mentions) {
				t.Errorf("mentions\n got %+v\nwant %+v", e.Mentions, tc.mentions)
			}
			if !reflect.DeepEqual(nonNil(e.Tags), tc.tags) {
				t.Errorf("tags\n got %+v\nwant %+v", e.Tags, tc.tags)
			}
			checkInvariants(t, text, e)
		})
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func TestLengthAtTheLimit(t *testing.T) {
	family := "👩‍👩‍👧" // five code points
	cases := []struct {
		in   string
		want int
	}{
		{strings.Repeat(family, 51) + "x", 256},
		{strings.Repeat(family, 51) + "xy", 257},
		{strings.Repeat("é", 256), 256},                                   // precomposed: one code point each
		{strings.Repeat("e\u0301", 128), 256},                             // combining: two each
		{strings.Repeat("ש", 255) + "!", 256},                             // right to left
		{"[docs](https://pnut.io/docs) " + strings.Repeat("a", 251), 256}, // " [pnut.io]" does not count
		{"[docs](https://pnut.io/docs) " + strings.Repeat("a", 252), 257},
		{"[pnut.io](https://pnut.io/docs)", 7},
	}
	for _, tc := range cases {
		text, e := Parse(tc.in, Options{ParseLinks: true, ParseMarkdownLinks: true})
		if got := Length(text, e); got != tc.want {
			t.Errorf("Length(%.30q…) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestHTML(t *testing.T) {
	cases := []struct {
		in, want string
		ids      map[string]string // mention name → id
	}{
		{"hi <b>&'\"", `<span itemscope itemtype="https://pnut.io/schemas/Post">hi &lt;b&gt;&amp;&#39;&#34;</span>`, nil},
		{"@bob and @nobody", `<span itemscope itemtype="https://pnut.io/schemas/Post"><span data-mention-id="9" data-mention-name="bob" itemprop="mention">@bob</span> and @nobody</span>`, map[string]string{"bob": "9"}},
		{"#The_Lost", `<span itemscope itemtype="https://pnut.io/schemas/Post"><span data-tag-name="thelost" itemprop="tag">#The_Lost</span></span>`, nil},
		{"[docs](https://pnut.io/docs \"A \"quoted\" title\")", `<span itemscope itemtype="https://pnut.io/schemas/Post"><a href="https://pnut.io/docs" title="A &#34;quoted&#34; title">docs</a> [pnut.io]</span>`, nil},
		{"[docs](https://pnut.io/docs \"Docs <b>\")", `<span itemscope itemtype="https://pnut.io/schemas/Post"><a href="https://pnut.io/docs" title="Docs &lt;b&gt;">docs</a> [pnut.io]</span>`, nil},
		{"GO TO HTTPS://PNUT.IO/Docs", `<span itemscope itemtype="https://pnut.io/schemas/Post">GO TO <a href="https://pnut.io/Docs">HTTPS://PNUT.IO/Docs</a></span>`, nil},
		{"go to pnut.io\nnow", `<span itemscope itemtype="https://pnut.io/schemas/Post">go to <a href="http://pnut.io">pnut.io</a><br>now</span>`, nil},
		{"x https://a.example/?q=<script>", `<span itemscope itemtype="https://pnut.io/schemas/Post">x <a href="https://a.example/?q=">https://a.example/?q=</a>&lt;script&gt;</span>`, nil},
	}
	for _, tc := range cases {
		text, e := Parse(tc.in, Options{ParseLinks: true, ParseMarkdownLinks: true})
		for i, m := range e.Mentions {
			e.Mentions[i].ID = tc.ids[m.Text]
		}
		if got := HTML(text, e); got != tc.want {
			t.Errorf("HTML(%q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeTag(t *testing.T) {
	for in, want := range map[string]string{"The_Lost_Children": "thelostchildren", "theLostChildren": "thelostchildren", "КОФЕ": "кофе", "日本語": "日本語", "__": ""} {
		if got := NormalizeTag(in); got != want {
			t.Errorf("NormalizeTag(%q) = %q, want %q", in, got, want)
		}
	}
}
