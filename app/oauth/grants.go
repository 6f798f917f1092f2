package oauth

import (
	"context"
	"errors"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// Authorization is an app a user allowed in, with the live tokens it holds.
type Authorization struct {
	Grant  *models.Grant
	Tokens []*models.Token
}

// Authorizations lists the apps u has authorized.
func (p *Processor) Authorizations(ctx context.Context, u *models.User) ([]Authorization, error) {
	grants, err := p.db.GrantsByUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	live, err := p.db.TokensByUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	byApp := map[int64][]*models.Token{}
	now := p.now()
	for _, t := range live {
		if t.AppID != 0 && t.Active(now) {
			byApp[t.AppID] = append(byApp[t.AppID], t)
		}
	}
	out := make([]Authorization, len(grants))
	for i, g := range grants {
		out[i] = Authorization{Grant: g, Tokens: byApp[g.AppID]}
		if out[i].Tokens == nil {
			out[i].Tokens = []*models.Token{}
		}
	}
	return out, nil
}

// RevokeAuthorization withdraws u's consent to an app: every token the app
// holds for u is revoked, and codes not yet exchanged can no longer be.
func (p *Processor) RevokeAuthorization(ctx context.Context, u *models.User, clientID string) (*models.Grant, error) {
	app, err := p.db.AppByClientID(ctx, clientID)
	if errors.Is(err, database.ErrNotFound) {
		return nil, errs.NotFound("authorization_not_found", "you have not authorized an app with client_id %q", clientID)
	}
	if err != nil {
		return nil, err
	}
	var grant *models.Grant
	now := p.now().UTC()
	err = p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		grant, err = q.GrantFor(ctx, u.ID, app.ID)
		if errors.Is(err, database.ErrNotFound) {
			return errs.NotFound("authorization_not_found", "you have not authorized an app with client_id %q", clientID)
		}
		if err != nil {
			return err
		}
		if err := q.DeleteGrant(ctx, u.ID, app.ID); err != nil {
			return err
		}
		if err := q.UseUpCodes(ctx, u.ID, app.ID, now); err != nil {
			return err
		}
		return q.RevokeAppTokens(ctx, u.ID, app.ID, now)
	})
	if err != nil {
		return nil, err
	}
	p.tokens.Forget(ctx)
	grant.App = app
	return grant, nil
}
