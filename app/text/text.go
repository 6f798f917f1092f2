// Package text turns what a user typed into what Pecan stores and shows:
// markdown links rewritten, links, mentions and tags found as entities,
// and safe HTML. It does no I/O. Positions and lengths count Unicode code
// points, as pnut's do.
package text

import (
	"sort"
	"strings"
	"unicode"

	"github.com/pecan-social/pecan/models"
)

// Options switch the parsers; pnut clients may turn link parsing off.
type Options struct {
	ParseLinks         bool
	ParseMarkdownLinks bool
}

// span is a claimed range of code points [start, end) that later parsers
// must leave alone.
type span struct{ start, end int }

type claimed []span

func (c claimed) overlaps(start, end int) bool {
	for _, s := range c {
		if start < s.end && s.start < end {
			return true
		}
	}
	return false
}

// NormalizeTag is how tags are looked up: lower-cased with "_" removed, so
// #The_Lost and #thelost are one tag.
func NormalizeTag(tag string) string {
	return strings.ReplaceAll(strings.ToLower(tag), "_", "")
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_'
}

func sortEntities(e *models.Entities) {
	sort.SliceStable(e.Links, func(i, j int) bool { return e.Links[i].Pos < e.Links[j].Pos })
	sort.SliceStable(e.Mentions, func(i, j int) bool { return e.Mentions[i].Pos < e.Mentions[j].Pos })
	sort.SliceStable(e.Tags, func(i, j int) bool { return e.Tags[i].Pos < e.Tags[j].Pos })
}
