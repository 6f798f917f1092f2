package models

import (
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
)

// Scope is a permission a token carries: pnut's scopes plus Pecan's own
// "webhooks" and "tokens".
type Scope string

const (
	ScopeBasic          Scope = "basic"
	ScopeStream         Scope = "stream"
	ScopeWritePost      Scope = "write_post"
	ScopeFollow         Scope = "follow"
	ScopeUpdateProfile  Scope = "update_profile"
	ScopePresence       Scope = "presence"
	ScopeMessages       Scope = "messages"
	ScopePublicMessages Scope = "public_messages"
	ScopeFiles          Scope = "files"
	ScopePolls          Scope = "polls"
	ScopeEmail          Scope = "email"
	ScopeWebhooks       Scope = "webhooks"
	ScopeTokens         Scope = "tokens"
)

// AllScopes lists every scope in a stable order.
var AllScopes = []Scope{
	ScopeBasic, ScopeStream, ScopeWritePost, ScopeFollow, ScopeUpdateProfile,
	ScopePresence, ScopeMessages, ScopePublicMessages, ScopeFiles, ScopePolls,
	ScopeEmail, ScopeWebhooks, ScopeTokens,
}

// Scopes is a set of scopes, stored as a comma-separated string so it reads
// the same on PostgreSQL and SQLite.
type Scopes []Scope

// ParseScopes reads a comma- or space-separated list. Unknown names are an
// error; "basic" is always added because pnut grants it with any other scope.
func ParseScopes(s string) (Scopes, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
	out := Scopes{ScopeBasic}
	for _, f := range fields {
		sc := Scope(strings.ToLower(strings.TrimSpace(f)))
		if !slices.Contains(AllScopes, sc) {
			return nil, fmt.Errorf("unknown scope %q", f)
		}
		out = out.with(sc)
	}
	return out.sorted(), nil
}

func (s Scopes) with(sc Scope) Scopes {
	if s.Has(sc) {
		return s
	}
	return append(s, sc)
}

// sorted orders scopes as AllScopes does, so equal sets print the same.
func (s Scopes) sorted() Scopes {
	out := make(Scopes, 0, len(s))
	for _, sc := range AllScopes {
		if s.Has(sc) {
			out = append(out, sc)
		}
	}
	return out
}

// Has reports whether sc is in the set.
func (s Scopes) Has(sc Scope) bool { return slices.Contains(s, sc) }

// Strings returns the scope names.
func (s Scopes) Strings() []string {
	out := make([]string, len(s))
	for i, sc := range s {
		out[i] = string(sc)
	}
	return out
}

// String joins the names with commas, as X-OAuth-Scopes shows them.
func (s Scopes) String() string { return strings.Join(s.Strings(), ",") }

// Value stores the set as text.
func (s Scopes) Value() (driver.Value, error) { return s.String(), nil }

// Scan reads the text form back.
func (s *Scopes) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case string:
		text = v
	case []byte:
		text = string(v)
	case nil:
		*s = nil
		return nil
	default:
		return fmt.Errorf("scan scopes: unexpected %T", src)
	}
	parsed, err := ParseScopes(text)
	if err != nil {
		return fmt.Errorf("scan scopes: %w", err)
	}
	*s = parsed
	return nil
}
