package text

import (
	"unicode"

	"github.com/pecan-social/pecan/models"
)

const maxUsernameLength = 20

func isUsernameRune(r rune) bool {
	return r < unicode.MaxASCII && (r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r))
}

// findMentions finds @name outside claimed spans. A mention may not start
// inside a word or an address (bob@example.org); it may follow whitespace
// or punctuation such as " ' ( and /.
func findMentions(runes []rune, taken claimed) []models.Mention {
	var (
		mentions []models.Mention
		sawWord  bool // any word text before this point, other than mentions
		lastCopy = -1 // end of the last copy mention, for "/@a @b" runs
	)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		if r != '@' {
			if isWordRune(r) {
				sawWord = true
			}
			continue
		}
		end := usernameEnd(runes, i)
		if end < 0 || !mayStartMention(runes, i) || taken.overlaps(i, end) {
			continue
		}
		m := models.Mention{Text: string(runes[i+1 : end]), Pos: i, Len: end - i, IsLeading: !sawWord}
		m.IsCopy = (i > 0 && runes[i-1] == '/') || (lastCopy >= 0 && onlySpaces(runes[lastCopy:i]))
		if m.IsCopy {
			lastCopy = end
		}
		mentions = append(mentions, m)
		i = end - 1
	}
	return mentions
}

// usernameEnd returns where the username after runes[at]=='@' ends, or -1
// when there is none or it is longer than a username can be.
func usernameEnd(runes []rune, at int) int {
	end := at + 1
	for end < len(runes) && isUsernameRune(runes[end]) {
		end++
	}
	if n := end - at - 1; n == 0 || n > maxUsernameLength {
		return -1
	}
	if end < len(runes) && (runes[end] == '@' || isWordRune(runes[end])) {
		return -1 // part of something longer, e.g. a handle on another server
	}
	return end
}

func mayStartMention(runes []rune, at int) bool {
	if at == 0 {
		return true
	}
	prev := runes[at-1]
	return !isWordRune(prev) && prev != '@' && prev != '.' && prev != '#'
}

func onlySpaces(rs []rune) bool {
	for _, r := range rs {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return len(rs) > 0
}
