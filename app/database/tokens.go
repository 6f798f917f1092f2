package database

import (
	"context"
	"fmt"
	"time"

	"github.com/pecan-social/pecan/models"
)

// CreateToken inserts t and sets its ID.
func (q Queries) CreateToken(ctx context.Context, t *models.Token) error {
	if _, err := q.idb.NewInsert().Model(t).Exec(ctx); err != nil {
		return fmt.Errorf("create token for user %d: %w", t.UserID, err)
	}
	return nil
}

// TokenByHash loads the token with the given hash, its user and its app.
func (q Queries) TokenByHash(ctx context.Context, hash string) (*models.Token, error) {
	t := new(models.Token)
	p := NewParams(q.idb) // on every signed-in request
	err := q.idb.NewSelect().Model(t).Relation("User", models.UserSummary).Relation("App").
		Where("token.hash = ?", p.Arg(hash)).Conn(p.Conn()).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "token")
	}
	dropMissingOwners(t)
	return t, nil
}

// dropMissingOwners unsets the relations a token does not have: a personal
// token has no app, an app token no user.
func dropMissingOwners(t *models.Token) {
	if t.UserID == 0 {
		t.User = nil
	}
	if t.AppID == 0 {
		t.App = nil
	}
}

// TokenByID loads one token.
func (q Queries) TokenByID(ctx context.Context, id int64) (*models.Token, error) {
	t := new(models.Token)
	err := q.idb.NewSelect().Model(t).Where("id = ?", id).Scan(ctx)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("token %d", id))
	}
	return t, nil
}

// TokensByUser lists a user's tokens that are not revoked, newest first,
// with the app each was issued to.
func (q Queries) TokensByUser(ctx context.Context, userID int64) ([]*models.Token, error) {
	var tokens []*models.Token
	err := q.idb.NewSelect().Model(&tokens).Relation("App").
		Where("token.user_id = ? AND token.revoked_at IS NULL", userID).
		OrderExpr("token.id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tokens of user %d: %w", userID, err)
	}
	for _, t := range tokens {
		dropMissingOwners(t)
	}
	return tokens, nil
}

// TouchToken records that a token was used. Writing at most once a minute
// keeps reads from turning into writes on every request.
func (q Queries) TouchToken(ctx context.Context, id int64, now time.Time) error {
	_, err := q.idb.NewUpdate().Model((*models.Token)(nil)).
		Set("last_used_at = ?", now).
		Where("id = ?", id).
		Where("last_used_at IS NULL OR last_used_at < ?", now.Add(-time.Minute)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("touch token %d: %w", id, err)
	}
	return nil
}

// RevokeToken marks a token revoked; revoking twice is harmless.
func (q Queries) RevokeToken(ctx context.Context, id int64, now time.Time) error {
	_, err := q.idb.NewUpdate().Model((*models.Token)(nil)).
		Set("revoked_at = ?", now).
		Where("id = ? AND revoked_at IS NULL", id).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	return nil
}
