package users

import (
	"context"
	"errors"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// Known finds a user this server already has, by username ("alice", or
// "bob@remote.example" for a copy of a remote user), without asking other
// servers: public pages must not let a visitor make the server fetch.
func (p *Processor) Known(ctx context.Context, username string) (*models.User, error) {
	u, err := p.db.UserByUsername(ctx, username)
	if errors.Is(err, database.ErrNotFound) {
		return nil, errs.NotFound("user_not_found", "no user @%s here", username)
	}
	return u, err
}
