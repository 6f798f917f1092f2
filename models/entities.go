package models

import (
	"database/sql/driver"
	"fmt"
	"github.com/segmentio/encoding/json"
)

// Link is a link entity. Pos and Len count code points of the post text.
// AmendedLen is set only on markdown links whose " [domain]" was appended:
// it is the length of the anchor text plus that suffix.
type Link struct {
	URL        string `json:"url"`
	Text       string `json:"text"`
	Pos        int    `json:"pos"`
	Len        int    `json:"len"`
	AmendedLen *int   `json:"amended_len,omitempty"`
	Title      string `json:"title,omitempty"`
}

// Mention is an @mention. Text is the username without "@"; Len includes
// the "@". ID is the mentioned user's id, filled in once resolved.
type Mention struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	Pos       int    `json:"pos"`
	Len       int    `json:"len"`
	IsLeading bool   `json:"is_leading,omitempty"`
	IsCopy    bool   `json:"is_copy,omitempty"`
}

// Tag is a #tag. Text is the tag as written, without "#"; Len includes "#".
type Tag struct {
	Text string `json:"text"`
	Pos  int    `json:"pos"`
	Len  int    `json:"len"`
}

// Entities are what pnut finds in a text. Empty lists encode as [], never
// null, as clients expect.
type Entities struct {
	Links    []Link    `json:"links"`
	Mentions []Mention `json:"mentions"`
	Tags     []Tag     `json:"tags"`
}

// MarshalJSON writes empty lists as [].
func (e Entities) MarshalJSON() ([]byte, error) {
	type plain Entities
	return json.Marshal(plain(e.WithEmptyLists()))
}

// WithEmptyLists is e with every nil list made empty, as pnut shows them.
func (e Entities) WithEmptyLists() Entities {
	if e.Links == nil {
		e.Links = []Link{}
	}
	if e.Mentions == nil {
		e.Mentions = []Mention{}
	}
	if e.Tags == nil {
		e.Tags = []Tag{}
	}
	return e
}

// Value stores entities as JSON text.
func (e Entities) Value() (driver.Value, error) {
	b, err := json.Marshal(e)
	return string(b), err
}

// Scan reads the JSON text back.
func (e *Entities) Scan(src any) error {
	return scanJSON(src, e, "entities")
}

func scanJSON(src any, dst any, what string) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		return nil
	default:
		return fmt.Errorf("scan %s: unexpected %T", what, src)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("scan %s: %w", what, err)
	}
	return nil
}

// jsonValue stores v as JSON text, or empty when v is nil.
func jsonValue(v any, empty string) (driver.Value, error) {
	if v == nil {
		return empty, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if string(b) == "null" {
		return empty, nil
	}
	return string(b), nil
}
