package models

import (
	"time"

	"github.com/uptrace/bun"
)

// FollowRequest is a local user's follow of a remote user that waits for
// the remote server's Accept.
type FollowRequest struct {
	bun.BaseModel `bun:"table:follow_requests"`

	ID         int64     `bun:"id,pk,autoincrement"`
	FollowerID int64     `bun:"follower_id,notnull"`
	FolloweeID int64     `bun:"followee_id,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
}

// ServerKey is a key pair the instance itself signs with, e.g. the
// instance actor's, which signs fetches.
type ServerKey struct {
	bun.BaseModel `bun:"table:server_keys"`

	Name          string    `bun:"name,pk"`
	PublicKeyPEM  string    `bun:"public_key_pem,notnull"`
	PrivateKeyPEM string    `bun:"private_key_pem,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
}
