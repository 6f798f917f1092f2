package database

import (
	"context"
	"fmt"
	"time"

	"github.com/pecan-social/pecan/models"
)

// CreateApp inserts a and sets its ID.
func (q Queries) CreateApp(ctx context.Context, a *models.App) error {
	if _, err := q.idb.NewInsert().Model(a).Exec(ctx); err != nil {
		return fmt.Errorf("create app %q: %w", a.Name, err)
	}
	return nil
}

// AppByClientID loads the app with that client_id.
func (q Queries) AppByClientID(ctx context.Context, clientID string) (*models.App, error) {
	a := new(models.App)
	if err := q.idb.NewSelect().Model(a).Where("client_id = ?", clientID).Scan(ctx); err != nil {
		return nil, notFound(err, "app")
	}
	return a, nil
}

// AppByID loads one app.
func (q Queries) AppByID(ctx context.Context, id int64) (*models.App, error) {
	a := new(models.App)
	if err := q.idb.NewSelect().Model(a).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, fmt.Sprintf("app %d", id))
	}
	return a, nil
}

// AppsByOwner lists the apps a user registered, newest first.
func (q Queries) AppsByOwner(ctx context.Context, ownerID int64) ([]*models.App, error) {
	var apps []*models.App
	err := q.idb.NewSelect().Model(&apps).Where("owner_id = ?", ownerID).OrderExpr("id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list apps of user %d: %w", ownerID, err)
	}
	return apps, nil
}

// DeleteApp removes an app; its tokens, codes and grants go with it (the
// foreign keys cascade).
func (q Queries) DeleteApp(ctx context.Context, id int64) error {
	if _, err := q.idb.NewDelete().Model((*models.App)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete app %d: %w", id, err)
	}
	return nil
}

// SetAppTrust marks an app first-party (with the hash of its password-grant
// secret) or not.
func (q Queries) SetAppTrust(ctx context.Context, id int64, trusted bool, secretHash string) error {
	_, err := q.idb.NewUpdate().Model((*models.App)(nil)).
		Set("trusted = ?", trusted).Set("password_grant_secret_hash = ?", secretHash).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set trust of app %d: %w", id, err)
	}
	return nil
}

// CreateCode inserts an authorization code.
func (q Queries) CreateCode(ctx context.Context, c *models.AuthCode) error {
	if _, err := q.idb.NewInsert().Model(c).Exec(ctx); err != nil {
		return fmt.Errorf("create authorization code: %w", err)
	}
	return nil
}

// CodeByHash loads the code with that hash.
func (q Queries) CodeByHash(ctx context.Context, hash string) (*models.AuthCode, error) {
	c := new(models.AuthCode)
	if err := q.idb.NewSelect().Model(c).Where("hash = ?", hash).Scan(ctx); err != nil {
		return nil, notFound(err, "authorization code")
	}
	return c, nil
}

// ClaimCode marks a code used and reports whether this call did it: of any
// number of concurrent claims exactly one wins.
func (q Queries) ClaimCode(ctx context.Context, id int64, now time.Time) (bool, error) {
	res, err := q.idb.NewUpdate().Model((*models.AuthCode)(nil)).
		Set("used_at = ?", now).Where("id = ? AND used_at IS NULL", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("claim code %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetCodeToken records the token a code was exchanged for.
func (q Queries) SetCodeToken(ctx context.Context, codeID, tokenID int64) error {
	_, err := q.idb.NewUpdate().Model((*models.AuthCode)(nil)).
		Set("token_id = ?", tokenID).Where("id = ?", codeID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set token of code %d: %w", codeID, err)
	}
	return nil
}

// UseUpCodes marks every unused code of a user for an app used, so none can
// be exchanged after the user revoked the app.
func (q Queries) UseUpCodes(ctx context.Context, userID, appID int64, now time.Time) error {
	_, err := q.idb.NewUpdate().Model((*models.AuthCode)(nil)).
		Set("used_at = ?", now).Where("user_id = ? AND app_id = ? AND used_at IS NULL", userID, appID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("use up codes of user %d for app %d: %w", userID, appID, err)
	}
	return nil
}

// DeleteCodesExpiredBefore drops codes nobody can use any more.
func (q Queries) DeleteCodesExpiredBefore(ctx context.Context, before time.Time) error {
	_, err := q.idb.NewDelete().Model((*models.AuthCode)(nil)).Where("expires_at < ?", before).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete expired codes: %w", err)
	}
	return nil
}

// GrantFor loads what a user allowed an app.
func (q Queries) GrantFor(ctx context.Context, userID, appID int64) (*models.Grant, error) {
	g := new(models.Grant)
	err := q.idb.NewSelect().Model(g).Where("user_id = ? AND app_id = ?", userID, appID).Scan(ctx)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("grant of user %d to app %d", userID, appID))
	}
	return g, nil
}

// SaveGrant inserts or replaces a grant.
func (q Queries) SaveGrant(ctx context.Context, g *models.Grant) error {
	_, err := q.idb.NewInsert().Model(g).
		On("CONFLICT (user_id, app_id) DO UPDATE").
		Set("scopes = EXCLUDED.scopes").Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("save grant of user %d to app %d: %w", g.UserID, g.AppID, err)
	}
	return nil
}

// GrantsByUser lists the apps a user has authorized, most recent first.
func (q Queries) GrantsByUser(ctx context.Context, userID int64) ([]*models.Grant, error) {
	var grants []*models.Grant
	err := q.idb.NewSelect().Model(&grants).Relation("App").
		Where("g.user_id = ?", userID).OrderExpr("g.updated_at DESC, g.app_id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list grants of user %d: %w", userID, err)
	}
	return grants, nil
}

// DeleteGrant removes a grant.
func (q Queries) DeleteGrant(ctx context.Context, userID, appID int64) error {
	_, err := q.idb.NewDelete().Model((*models.Grant)(nil)).
		Where("user_id = ? AND app_id = ?", userID, appID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete grant of user %d to app %d: %w", userID, appID, err)
	}
	return nil
}

// RevokeAppTokens revokes every live token an app holds for a user.
func (q Queries) RevokeAppTokens(ctx context.Context, userID, appID int64, now time.Time) error {
	_, err := q.idb.NewUpdate().Model((*models.Token)(nil)).
		Set("revoked_at = ?", now).
		Where("user_id = ? AND app_id = ? AND revoked_at IS NULL", userID, appID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke tokens of app %d for user %d: %w", appID, userID, err)
	}
	return nil
}

// CodeByID loads one code.
func (q Queries) CodeByID(ctx context.Context, id int64) (*models.AuthCode, error) {
	c := new(models.AuthCode)
	if err := q.idb.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, fmt.Sprintf("authorization code %d", id))
	}
	return c, nil
}
