package text

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// everyDottedWord is how words were matched before linkPattern chose
// cheaper patterns: strict with a scheme, otherwise Relaxed on any word
// with a dot. linkPattern must find the same links.
func everyDottedWord(word string) *regexp.Regexp {
	switch {
	case strings.Contains(word, "://"):
		return strict
	case strings.Contains(word, "."):
		return relaxed
	}
	return nil
}

// sameLinksAsRelaxed fails unless findLinks keeps exactly the links that
// running Relaxed on every dotted word keeps.
func sameLinksAsRelaxed(t *testing.T, text string) {
	t.Helper()
	want := keepLinks(text, linkCandidates(text, everyDottedWord), nil)
	if got := findLinks(text, nil); !reflect.DeepEqual(got, want) {
		t.Fatalf("links in %q\n got %+v\nwant %+v", text, got, want)
	}
}

func TestRelaxedWithoutColon(t *testing.T) {
	if bare == relaxed {
		t.Fatal("xurls no longer builds Relaxed as strict|web|email|ipv6: linkPattern falls back to the slow pattern")
	}
	for _, s := range []string{
		"example.com", "[pecan.example]", "a.b.c.example/x_(y)", "bob@example.org", "10.0.0.1/x", "1.2.3.4.5",
		"日本.example/パス", "xn--wgv71a.example", "example.com…", "a..com", ".com", "http.example", "x.co.uk/?q=1#f",
	} {
		got, want := bare.FindAllStringIndex(s, -1), relaxed.FindAllStringIndex(s, -1)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: without colon %v, relaxed %v", s, got, want)
		}
	}
}

func TestLinkPatternFindsWhatRelaxedFinds(t *testing.T) {
	for _, tc := range parseCases {
		sameLinksAsRelaxed(t, tc.in)
	}
	for _, s := range []string{
		"today. and 3.14 and 10.0.0.1 and a.b", "mailto:bob@example.org xmpp:foo.example.com", "example.com:8080/x",
		"[::ffff:1.2.3.4]/x", "...", "x.", "end.", "¹.²", "a.\u0301b", "svn+ssh://x.example/http://y.example",
		"https://a.example/x:y", "HTTPS://A.EXAMPLE/P", "hTtP://a.example,ftp://b.example", "https://a.example)mailto:x@y.example",
		"https://", "http://x.example/https://y.example", "https://a.example>https://b.example", "https://a.example|xmpp:b@c.example", "https://a.example/(x)...", "https://a.example\u00a0b.example",
	} {
		sameLinksAsRelaxed(t, s)
	}
}

// FuzzLinkPattern checks linkPattern's shortcuts on any input: the word
// filter, the web pattern and the colon-free pattern change nothing
// findLinks keeps.
func FuzzLinkPattern(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in)
	}
	f.Add("today. 10.0.0.1 [::ffff:1.2.3.4] mailto:a@b.example x.example:80/p")
	f.Add("https://a.example/p)xmpp:b@c.example HTTP://d.example,https://e.example")
	f.Fuzz(func(t *testing.T, in string) {
		sameLinksAsRelaxed(t, in)
		noColon := strings.ReplaceAll(in, ":", "")
		got, want := bare.FindAllStringIndex(noColon, -1), relaxed.FindAllStringIndex(noColon, -1)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: without colon %v, relaxed %v", noColon, got, want)
		}
	})
}
