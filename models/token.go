package models

import (
	"time"

	"github.com/uptrace/bun"
)

// Token is an access token. Only the SHA-256 of the secret is stored, so a
// leaked database does not leak working tokens.
//
// A token acts for a user (UserID set) through an app (AppID set: issued by
// OAuth) or on its own (AppID 0: a personal access token). An app token has
// an AppID and no user: it speaks for the app alone.
type Token struct {
	bun.BaseModel `bun:"table:tokens"`

	ID         int64      `bun:"id,pk,autoincrement"`
	UserID     int64      `bun:"user_id,nullzero"`
	AppID      int64      `bun:"app_id,nullzero"`
	Hash       string     `bun:"hash,notnull"` // hex SHA-256 of the raw token
	Label      string     `bun:"label,notnull"`
	Scopes     Scopes     `bun:"scopes,notnull"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	ExpiresAt  *time.Time `bun:"expires_at"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`

	User *User `bun:"rel:belongs-to,join:user_id=id"`
	App  *App  `bun:"rel:belongs-to,join:app_id=id"`
}

// Active reports whether the token may be used at now.
func (t *Token) Active(now time.Time) bool {
	if t.RevokedAt != nil {
		return false
	}
	return t.ExpiresAt == nil || now.Before(*t.ExpiresAt)
}

// IsAppToken reports whether the token speaks for an app and no user.
func (t *Token) IsAppToken() bool { return t.UserID == 0 }
