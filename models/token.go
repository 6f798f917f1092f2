package models

import (
	"time"

	"github.com/uptrace/bun"
)

// Token is an access token. Only the SHA-256 of the secret is stored, so a
// leaked database does not leak working tokens.
type Token struct {
	bun.BaseModel `bun:"table:tokens"`

	ID         int64      `bun:"id,pk,autoincrement"`
	UserID     int64      `bun:"user_id,notnull"`
	Hash       string     `bun:"hash,notnull"` // hex SHA-256 of the raw token
	Label      string     `bun:"label,notnull"`
	Scopes     Scopes     `bun:"scopes,notnull"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	ExpiresAt  *time.Time `bun:"expires_at"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`

	User *User `bun:"rel:belongs-to,join:user_id=id"`
}

// Active reports whether the token may be used at now.
func (t *Token) Active(now time.Time) bool {
	if t.RevokedAt != nil {
		return false
	}
	return t.ExpiresAt == nil || now.Before(*t.ExpiresAt)
}
