package models

import (
	"time"

	"github.com/uptrace/bun"
)

// App is an OAuth client: a program that acts for users with their consent.
// Its secrets are kept only as SHA-256 hashes, like tokens.
type App struct {
	bun.BaseModel `bun:"table:apps"`

	ID           int64      `bun:"id,pk,autoincrement"`
	ClientID     string     `bun:"client_id,notnull"`
	SecretHash   string     `bun:"secret_hash,notnull"`
	Name         string     `bun:"name,notnull"`
	Website      string     `bun:"website,notnull"`
	RedirectURIs StringList `bun:"redirect_uris,notnull"`
	// Scopes are the most the app may ask a user for.
	Scopes  Scopes `bun:"scopes,notnull"`
	OwnerID int64  `bun:"owner_id,nullzero"` // 0: registered by the operator
	// Trusted apps are first-party: they may use the password grant, with
	// PasswordGrantSecretHash as their credential for it.
	Trusted                 bool      `bun:"trusted,notnull"`
	PasswordGrantSecretHash string    `bun:"password_grant_secret_hash,notnull"`
	CreatedAt               time.Time `bun:"created_at,notnull"`
}

// AuthCode is an authorization code on its way to becoming a token. Only its
// hash is stored. It is bound to the app, the redirect URI and the PKCE
// challenge it was issued for, and can be exchanged once.
type AuthCode struct {
	bun.BaseModel `bun:"table:oauth_codes"`

	ID            int64      `bun:"id,pk,autoincrement"`
	Hash          string     `bun:"hash,notnull"`
	AppID         int64      `bun:"app_id,notnull"`
	UserID        int64      `bun:"user_id,notnull"`
	RedirectURI   string     `bun:"redirect_uri,notnull"`
	Scopes        Scopes     `bun:"scopes,notnull"`
	CodeChallenge string     `bun:"code_challenge,notnull"` // S256 of the client's code_verifier
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	ExpiresAt     time.Time  `bun:"expires_at,notnull"`
	UsedAt        *time.Time `bun:"used_at"`
	TokenID       int64      `bun:"token_id,nullzero"` // the token it became, revoked if the code comes back
}

// Grant records that a user allowed an app some scopes. It lets
// /oauth/authenticate skip the consent page, and revoking it revokes every
// token the app holds for the user.
type Grant struct {
	bun.BaseModel `bun:"table:oauth_grants,alias:g"`

	UserID    int64     `bun:"user_id,pk"`
	AppID     int64     `bun:"app_id,pk"`
	Scopes    Scopes    `bun:"scopes,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`

	App *App `bun:"rel:belongs-to,join:app_id=id"`
}
