package text

import (
	"unicode"

	"github.com/pecan-social/pecan/models"
)

// isTagRune allows letters and marks of any script, digits, "_", and the
// pieces emoji are made of: symbols, joiners, variation selectors, skin
// tones and keycaps.
func isTagRune(r rune) bool {
	switch {
	case unicode.IsLetter(r), unicode.IsMark(r), unicode.IsDigit(r), r == '_':
		return true
	case unicode.Is(unicode.So, r), unicode.Is(unicode.Sk, r) && r >= 0x1F3FB && r <= 0x1F3FF:
		return true
	case r == 0x200D, r >= 0xFE00 && r <= 0xFE0F, r == 0x20E3, r >= 0xE0020 && r <= 0xE007F:
		return true
	}
	return false
}

// findTags finds #tag outside claimed spans.
func findTags(runes []rune, taken claimed) []models.Tag {
	var tags []models.Tag
	for i := 0; i < len(runes); i++ {
		if runes[i] != '#' || (i > 0 && (isWordRune(runes[i-1]) || runes[i-1] == '&' || isTagRune(runes[i-1]))) {
			continue
		}
		end := i + 1
		for end < len(runes) && isTagRune(runes[end]) {
			end++
		}
		if !isTag(runes[i+1:end]) || taken.overlaps(i, end) {
			continue
		}
		tags = append(tags, models.Tag{Text: string(runes[i+1 : end]), Pos: i, Len: end - i})
		i = end - 1
	}
	return tags
}

// isTag applies pnut's "all-digit tags are not tags" to the tag as it is
// looked up, after normalising: #_123 and #123_ are the all-digit 123, and
// #__ would be the empty tag.
func isTag(name []rune) bool {
	for _, r := range name {
		if r != '_' && !unicode.IsDigit(r) {
			return true
		}
	}
	return false
}
