package database

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/pecan-social/pecan/models"
)

// Graph names one relation table and its two columns.
type Graph struct {
	Table, Subject, Object string
}

// The three relations users keep with each other.
var (
	Follows = Graph{"follows", "follower_id", "followee_id"}
	Mutes   = Graph{"mutes", "user_id", "muted_id"}
	Blocks  = Graph{"blocks", "user_id", "blocked_id"}
)

// AddRelation records subject → object and reports whether it is new; an
// existing edge is no error (and does not abort the transaction). Only
// the graph processor calls it (and RemoveRelation): it forgets what the
// replicas remember of both users' relations once the change commits.
func (q Queries) AddRelation(ctx context.Context, g Graph, subject, object int64, now time.Time) (bool, error) {
	var query *bun.RawQuery
	if g == Follows { // follows also say whether the follower is remote
		query = q.idb.NewRaw(`INSERT INTO follows (follower_id, followee_id, created_at, remote_follower)
			VALUES (?, ?, ?, EXISTS (SELECT 1 FROM users WHERE id = ? AND domain <> ''))
			ON CONFLICT (follower_id, followee_id) DO NOTHING`, subject, object, now, subject)
	} else {
		query = q.idb.NewRaw("INSERT INTO ? (?, ?, created_at) VALUES (?, ?, ?) ON CONFLICT (?, ?) DO NOTHING",
			bun.Ident(g.Table), bun.Ident(g.Subject), bun.Ident(g.Object), subject, object, now,
			bun.Ident(g.Subject), bun.Ident(g.Object))
	}
	res, err := query.Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("add %s %d→%d: %w", g.Table, subject, object, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RemoveRelation deletes subject → object and reports whether it existed.
func (q Queries) RemoveRelation(ctx context.Context, g Graph, subject, object int64) (bool, error) {
	res, err := q.idb.NewRaw("DELETE FROM ? WHERE ? = ? AND ? = ?",
		bun.Ident(g.Table), bun.Ident(g.Subject), subject, bun.Ident(g.Object), object).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("remove %s %d→%d: %w", g.Table, subject, object, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RelatedAmong returns which of ids the subject has a relation to
// (outgoing) or which of ids have one to the subject (incoming).
func (q Queries) RelatedAmong(ctx context.Context, g Graph, subject int64, ids []int64, incoming bool) (map[int64]bool, error) {
	if len(ids) == 0 {
		return map[int64]bool{}, nil
	}
	mine, theirs := g.Subject, g.Object
	if incoming {
		mine, theirs = theirs, mine
	}
	var found []int64
	err := q.idb.NewRaw("SELECT ? FROM ? WHERE ? = ? AND ? IN (?)",
		bun.Ident(theirs), bun.Ident(g.Table), bun.Ident(mine), subject, bun.Ident(theirs), bun.In(ids)).Scan(ctx, &found)
	if err != nil {
		return nil, fmt.Errorf("%s of user %d: %w", g.Table, subject, err)
	}
	return asSet(found), nil
}

// RelationUser is a user in a relation list, with the edge's id for paging.
type RelationUser struct {
	EdgeID int64
	User   *models.User
}

// RelationPage lists the users on the other end of a user's relations:
// whom a user follows (outgoing) or who follows them (incoming), paged by
// edge id between the exclusive bounds, newest edge first or, with
// oldestFirst, oldest first.
func (q Queries) RelationPage(ctx context.Context, g Graph, userID int64, incoming bool, beforeID, sinceID int64, limit int, oldestFirst bool) ([]RelationUser, error) {
	mine, theirs := g.Subject, g.Object
	if incoming {
		mine, theirs = theirs, mine
	}
	var edges []struct {
		ID    int64 `bun:"id"`
		Other int64 `bun:"other"`
	}
	sel := q.idb.NewSelect().TableExpr("?", bun.Ident(g.Table)).
		ColumnExpr("id, ? AS other", bun.Ident(theirs)).Where("? = ?", bun.Ident(mine), userID)
	if beforeID > 0 {
		sel = sel.Where("id < ?", beforeID)
	}
	if sinceID > 0 {
		sel = sel.Where("id > ?", sinceID)
	}
	order := "id DESC"
	if oldestFirst {
		order = "id ASC"
	}
	if err := sel.OrderExpr(order).Limit(int64(limit)).Scan(ctx, &edges); err != nil {
		return nil, fmt.Errorf("list %s of user %d: %w", g.Table, userID, err)
	}
	ids := make([]int64, len(edges))
	for i, e := range edges {
		ids[i] = e.Other
	}
	users, err := q.UsersByIDsOrNames(ctx, ids, nil)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*models.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	out := make([]RelationUser, 0, len(edges))
	for _, e := range edges {
		if u := byID[e.Other]; u != nil {
			out = append(out, RelationUser{EdgeID: e.ID, User: u})
		}
	}
	return out, nil
}
