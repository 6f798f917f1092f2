package models

import "time"

// Relation is one edge of the social graph: a follow, a mute or a block,
// from Subject to Object.
type Relation struct {
	ID        int64
	SubjectID int64
	ObjectID  int64
	CreatedAt time.Time
}

// Marker is a user's place in a stream.
type Marker struct {
	Name       string    `json:"name"`
	ID         int64     `json:"id"`
	LastReadID int64     `json:"last_read_id"`
	Percentage int       `json:"percentage"`
	Version    int64     `json:"version"`
	UpdatedAt  time.Time `json:"updated_at"`
}
