package text

import (
	"strings"
	"unicode"

	"github.com/pecan-social/pecan/models"
)

const (
	maxUsernameLength       = 20
	maxRemoteUsernameLength = 64
	maxHostLength           = 253
)

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
// when there is none or it is longer than a username can be. A handle on
// another server, @name@host, is one mention.
func usernameEnd(runes []rune, at int) int {
	end := at + 1
	for end < len(runes) && isUsernameRune(runes[end]) {
		end++
	}
	n := end - at - 1
	if n == 0 || n > maxRemoteUsernameLength {
		return -1
	}
	if end < len(runes) && runes[end] == '@' {
		return hostEnd(runes, end)
	}
	if n > maxUsernameLength || (end < len(runes) && isWordRune(runes[end])) {
		return -1 // part of something longer
	}
	return end
}

func isHostRune(r rune) bool {
	return r < unicode.MaxASCII && (r == '.' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r))
}

// hostEnd returns where the host after runes[at]=='@' of a handle ends
// (with a :port if there is one), or -1 when there is no host: it needs
// a dot or a port, and a trailing dot is the sentence's, not the host's.
func hostEnd(runes []rune, at int) int {
	end := at + 1
	for end < len(runes) && isHostRune(runes[end]) {
		end++
	}
	for end > at+1 && (runes[end-1] == '.' || runes[end-1] == '-') {
		end--
	}
	host := string(runes[at+1 : end])
	hasPort := false
	if end+1 < len(runes) && runes[end] == ':' && unicode.IsDigit(runes[end+1]) {
		p := end + 1
		for p < len(runes) && p-end <= 5 && unicode.IsDigit(runes[p]) {
			p++
		}
		end, hasPort = p, true
	}
	if host == "" || len(host) > maxHostLength || (!strings.Contains(host, ".") && !hasPort) {
		return -1
	}
	if end < len(runes) && (runes[end] == '@' || isWordRune(runes[end])) {
		return -1
	}
	return end
}

// handleSpans are the @name@host handles in the text, claimed before links
// are looked for, so "host" is not taken for a bare link.
func handleSpans(runes []rune, taken claimed) claimed {
	var out claimed
	for i := 0; i < len(runes); i++ {
		if runes[i] != '@' || !mayStartMention(runes, i) {
			continue
		}
		end := usernameEnd(runes, i)
		if end < 0 {
			continue
		}
		if at := indexRune(runes[i+1:end], '@'); at >= 0 && !taken.overlaps(i, end) {
			out = append(out, span{i, end})
			i = end - 1
		}
	}
	return out
}

func indexRune(rs []rune, r rune) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
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
