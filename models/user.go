// Package models holds the rows Pecan stores and the value types they carry.
package models

import (
	"time"

	"github.com/uptrace/bun"
)

// UserType is pnut's account kind. Bots are exempt from the duplicate-post
// window and are left out of the global stream.
type UserType string

const (
	UserHuman UserType = "human"
	UserFeed  UserType = "feed"
	UserBot   UserType = "bot"
)

// Valid reports whether t is one of the three pnut user types.
func (t UserType) Valid() bool {
	return t == UserHuman || t == UserFeed || t == UserBot
}

// User is a local account (remote accounts arrive with federation).
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID             int64     `bun:"id,pk,autoincrement"`
	Username       string    `bun:"username,notnull"`
	UsernameKey    string    `bun:"username_key,notnull"` // lower-cased, unique: usernames compare case-insensitively
	Name           string    `bun:"name,notnull"`
	Type           UserType  `bun:"type,notnull"`
	ProfileText    string    `bun:"profile_text,notnull"`
	Locale         string    `bun:"locale,notnull"`
	Timezone       string    `bun:"timezone,notnull"`
	PasswordHash   string    `bun:"password_hash,notnull"`
	PostCount      int64     `bun:"post_count,notnull"`
	BookmarkCount  int64     `bun:"bookmark_count,notnull"`
	FollowerCount  int64     `bun:"follower_count,notnull"`
	FollowingCount int64     `bun:"following_count,notnull"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
	UpdatedAt      time.Time `bun:"updated_at,notnull"`

	// Federation. A remote user has Domain (its server's host, with a port
	// if any) and ActorID set, and Username "name@domain". A local user has
	// neither, and a key pair: PrivateKeyPEM never leaves the server.
	Domain         string     `bun:"domain,notnull"`
	ActorID        *string    `bun:"actor_id"`
	InboxURL       string     `bun:"inbox_url,notnull"`
	SharedInboxURL string     `bun:"shared_inbox_url,notnull"`
	ProfileURL     string     `bun:"profile_url,notnull"`
	KeyID          *string    `bun:"key_id"`
	PublicKeyPEM   string     `bun:"public_key_pem,notnull"`
	PrivateKeyPEM  string     `bun:"private_key_pem,notnull"`
	FetchedAt      *time.Time `bun:"fetched_at"`
}

// UserSummary leaves out of a user query what showing a user never needs:
// the password hash and private key (every post's author should not carry
// secrets through the process) and the public key (a page of posts would
// read and decode kilobytes of PEM for nothing).
func UserSummary(q *bun.SelectQuery) *bun.SelectQuery {
	return q.ExcludeColumn("password_hash", "private_key_pem", "public_key_pem")
}

// Remote reports whether the user lives on another server.
func (u *User) Remote() bool { return u.Domain != "" }

// DeliveryInbox is where activities for this remote user go: the shared
// inbox of their server when it has one, so a server gets each activity
// once however many of its users follow.
func (u *User) DeliveryInbox() string {
	if u.SharedInboxURL != "" {
		return u.SharedInboxURL
	}
	return u.InboxURL
}
