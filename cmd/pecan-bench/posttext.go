package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pecan-social/pecan/app/text"
	"github.com/pecan-social/pecan/models"
)

// Seeded posts come from a few templates that app/text parses once. Each
// template holds placeholders of fixed widths (two usernames, two tags and
// a number) that every post fills with values of the same widths, so the
// parsed positions and lengths still hold and no post is parsed again.
// TestSeededTextsParseAsTheAppWould checks that the result is what
// text.Parse makes of the filled text.
var postTemplates = []string{
	"{A} have you seen https://example.com/posts/{N} yet? #{T}",
	"Reading [the pnut docs](https://pnut.io/docs) again while the kettle boils. #{T} #{U}",
	"Morning, everyone. Coffee first, then code review with {A} and {B}.",
	"Post {N}: nothing to see here, just checking that the timeline works as it should.",
	"Long thought {N}: the best servers are small, fast and pleasant to operate; example.org/notes/{N} has more. #{T}",
	"{A} {B} thanks for the tip! It fixed my build on the first try. #{T}",
	"Photos from the weekend: https://photos.example.net/album/{N} #{T} #{U}",
	"Does anyone know a good bakery near the station? Asking for a friend of {A}. #{T}",
}

// tagNames are the seeded tags, all as wide as the tag placeholders.
// Earlier ones are more common, so a few tags carry long streams.
var tagNames = []string{
	"pecans", "coffee", "design", "golang", "travel", "photos", "garden", "movies", "guitar", "cycles",
	"bakery", "poetry", "hiking", "sunset", "robots", "sports", "comics", "skates", "trains", "planet",
}

const (
	tagPlaceholderA = "qqqqqq"
	tagPlaceholderB = "zzzzzz"
	numberWidth     = 8
	numberDummy     = "N0000000"
)

// postText is one parsed template.
type postText struct {
	input    string // as a client would send it, placeholders filled with dummies
	text     string // as stored
	entities models.Entities
}

// textFactory fills templates for seeding.
type textFactory struct {
	nameWidth          int // digits in a seeded username after the "u"
	mentionA, mentionB string
	templates          []postText
}

func newTextFactory(nameWidth int) *textFactory {
	f := &textFactory{
		nameWidth: nameWidth,
		mentionA:  "u" + strings.Repeat("0", nameWidth),
		mentionB:  "x" + strings.Repeat("0", nameWidth),
	}
	dummies := strings.NewReplacer("{A}", "@"+f.mentionA, "{B}", "@"+f.mentionB,
		"{T}", tagPlaceholderA, "{U}", tagPlaceholderB, "{N}", numberDummy)
	for _, tpl := range postTemplates {
		filled := dummies.Replace(tpl)
		stored, e := text.Parse(filled, text.Options{ParseLinks: true, ParseMarkdownLinks: true})
		f.templates = append(f.templates, postText{input: filled, text: stored, entities: e})
	}
	return f
}

// username is the seeded local user number n's name.
func (f *textFactory) username(n int) string {
	return fmt.Sprintf("u%0*d", f.nameWidth, n)
}

// mentionRef is a user a post mentions.
type mentionRef struct {
	ID       int64
	Username string
}

// fill makes post text number n from template tpl with the given mentions
// and tags, and returns it with its entities, mention ids resolved.
func (f *textFactory) fill(tpl int, n int64, a, b mentionRef, tagA, tagB string) (string, models.Entities) {
	t := f.templates[tpl%len(f.templates)]
	r := f.replacer(n, a, b, tagA, tagB)
	e := models.Entities{
		Links:    make([]models.Link, len(t.entities.Links)),
		Mentions: make([]models.Mention, len(t.entities.Mentions)),
		Tags:     make([]models.Tag, len(t.entities.Tags)),
	}
	for i, l := range t.entities.Links {
		l.URL, l.Text = r.Replace(l.URL), r.Replace(l.Text)
		e.Links[i] = l
	}
	for i, m := range t.entities.Mentions {
		ref := a
		if m.Text == f.mentionB {
			ref = b
		}
		m.Text, m.ID = ref.Username, strconv.FormatInt(ref.ID, 10)
		e.Mentions[i] = m
	}
	for i, tag := range t.entities.Tags {
		tag.Text = r.Replace(tag.Text)
		e.Tags[i] = tag
	}
	return r.Replace(t.text), e
}

func (f *textFactory) replacer(n int64, a, b mentionRef, tagA, tagB string) *strings.Replacer {
	number := fmt.Sprintf("%0*d", numberWidth, n%100_000_000)
	return strings.NewReplacer(f.mentionA, a.Username, f.mentionB, b.Username,
		tagPlaceholderA, tagA, tagPlaceholderB, tagB, numberDummy, number)
}

// input is what a client would have sent to make the post fill makes.
func (f *textFactory) input(tpl int, n int64, a, b mentionRef, tagA, tagB string) string {
	return f.replacer(n, a, b, tagA, tagB).Replace(f.templates[tpl%len(f.templates)].input)
}
