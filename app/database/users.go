package database

import (
	"context"
	"fmt"
	"strings"

	"github.com/pecan-social/pecan/models"
)

// CreateUser inserts u and sets its ID. A taken username gives ErrDuplicate.
func (q Queries) CreateUser(ctx context.Context, u *models.User) error {
	_, err := q.idb.NewInsert().Model(u).Exec(ctx)
	if isUniqueViolation(err) {
		return fmt.Errorf("create user %q: %w", u.Username, ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return nil
}

// UserByID loads one user.
func (q Queries) UserByID(ctx context.Context, id int64) (*models.User, error) {
	u := new(models.User)
	err := q.idb.NewSelect().Model(u).Where("id = ?", id).Scan(ctx)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("user %d", id))
	}
	return u, nil
}

// UserByUsername loads one user by name, ignoring case.
func (q Queries) UserByUsername(ctx context.Context, username string) (*models.User, error) {
	u := new(models.User)
	err := q.idb.NewSelect().Model(u).Where("username_key = ?", strings.ToLower(username)).Scan(ctx)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("user @%s", username))
	}
	return u, nil
}

// UsersByIDsOrNames loads the users named by ids and (lower-cased) usernames,
// in no particular order; missing ones are simply absent.
func (q Queries) UsersByIDsOrNames(ctx context.Context, ids []int64, usernameKeys []string) ([]*models.User, error) {
	var users []*models.User
	if len(ids) == 0 && len(usernameKeys) == 0 {
		return users, nil
	}
	// Prepared on PostgreSQL: every post with a mention asks.
	p := NewParams(q.idb)
	sel := q.idb.NewSelect().Model(&users).Apply(models.UserSummary).
		Where("id ? OR username_key ?", p.In(ids), p.InText(usernameKeys))
	if err := sel.Conn(p.Conn()).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	return users, nil
}

// UpdateUserProfile saves the editable profile fields of u.
func (q Queries) UpdateUserProfile(ctx context.Context, u *models.User) error {
	_, err := q.idb.NewUpdate().Model(u).
		Column("name", "profile_text", "locale", "timezone", "updated_at").
		WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	return nil
}
