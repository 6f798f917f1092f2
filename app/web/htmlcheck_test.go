package web_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// voidElements have no end tag (HTML Living Standard, "void elements").
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
}

// checkHTML reads a page as a browser's tokenizer does and reports what a
// validator would: a doctype first, every element closed, in order, by its
// own end tag (no end tags for void elements, no self-closing others), and
// no script but external files: no inline script, no event-handler
// attributes, no javascript: URLs.
func checkHTML(page []byte) error {
	z := html.NewTokenizer(bytes.NewReader(page))
	var open []string
	var problems []string
	offset := 0 // bytes read so far, for line numbers
	fail := func(format string, args ...any) {
		line := bytes.Count(page[:offset], []byte("\n")) + 1
		problems = append(problems, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
	}
	first := true
	inScript := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if !errors.Is(z.Err(), io.EOF) {
				fail("tokenizer: %v", z.Err())
			}
			break
		}
		offset += len(z.Raw())
		tok := z.Token()
		if first && tt != html.TextToken {
			if tt != html.DoctypeToken || !strings.EqualFold(tok.Data, "html") {
				fail("the page does not start with <!DOCTYPE html>")
			}
			first = false
		}
		switch tt {
		case html.StartTagToken:
			checkAttributes(tok, fail)
			if voidElements[tok.Data] {
				continue
			}
			open = append(open, tok.Data)
			if tok.Data == "script" {
				inScript = true
				if attr(tok, "src") == "" {
					fail("<script> without src: inline script")
				}
			}
		case html.SelfClosingTagToken:
			checkAttributes(tok, fail)
			if !voidElements[tok.Data] {
				fail("<%s/> is not a void element and may not self-close", tok.Data)
			}
		case html.EndTagToken:
			if voidElements[tok.Data] {
				fail("</%s>: void elements have no end tag", tok.Data)
				continue
			}
			if len(open) == 0 || open[len(open)-1] != tok.Data {
				fail("</%s> closes nothing open (open: %s)", tok.Data, strings.Join(open, " > "))
				continue
			}
			open = open[:len(open)-1]
			inScript = inScript && tok.Data != "script"
		case html.TextToken:
			if inScript && strings.TrimSpace(tok.Data) != "" {
				fail("inline script: %.40q", tok.Data)
			}
		}
	}
	if len(open) > 0 {
		problems = append(problems, "never closed: "+strings.Join(open, " > "))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

func checkAttributes(tok html.Token, fail func(string, ...any)) {
	for _, a := range tok.Attr {
		if strings.HasPrefix(a.Key, "on") {
			fail("<%s %s>: event-handler attributes are inline script", tok.Data, a.Key)
		}
		if (a.Key == "href" || a.Key == "src" || a.Key == "action") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
			fail("<%s %s=%q>: javascript: URL", tok.Data, a.Key, a.Val)
		}
	}
}

func attr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// TestCheckHTMLCatchesBrokenPages: the checker itself must fail on what it
// is there to catch.
func TestCheckHTMLCatchesBrokenPages(t *testing.T) {
	good := "<!DOCTYPE html>\n<html><head><meta charset=utf-8><title>x</title></head><body><p>a<br>b</p><script src=/x.js></script></body></html>"
	if err := checkHTML([]byte(good)); err != nil {
		t.Fatalf("a good page: %v", err)
	}
	bad := map[string]string{
		"unclosed":        "<!DOCTYPE html><html><body><div><p>a</div></body></html>",
		"never closed":    "<!DOCTYPE html><html><body><div>",
		"inline script":   "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
		"handler":         "<!DOCTYPE html><html><body onload=\"x()\"></body></html>",
		"javascript url":  "<!DOCTYPE html><html><body><a href=\"javascript:x()\">x</a></body></html>",
		"void end tag":    "<!DOCTYPE html><html><body><br></br></body></html>",
		"self-closing":    "<!DOCTYPE html><html><body><div/></body></html>",
		"no doctype":      "<html><body></body></html>",
		"stray end tag":   "<!DOCTYPE html><html><body></span></body></html>",
		"misnested close": "<!DOCTYPE html><html><body><b><i>x</b></i></body></html>",
	}
	for name, page := range bad {
		if checkHTML([]byte(page)) == nil {
			t.Errorf("%s: passed", name)
		}
	}
}
