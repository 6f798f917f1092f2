package database

import (
	"context"
	"fmt"
)

// Standing is how a viewer stands with the users and posts of one page:
// whom they follow, who follows them, whom they mute and block, and which
// posts they bookmarked and reposted.
type Standing struct {
	YouFollow, FollowsYou, YouMuted, YouBlocked map[int64]bool // by user id
	Bookmarked, Reposted                        map[int64]bool // by post id
}

// StandingOf loads a viewer's standing with users and posts in one round
// trip: every page of posts needs all six answers, and six queries cost six
// times the latency for the same few index lookups.
func (q Queries) StandingOf(ctx context.Context, viewerID int64, userIDs, postIDs []int64) (Standing, error) {
	s := Standing{
		YouFollow: map[int64]bool{}, FollowsYou: map[int64]bool{}, YouMuted: map[int64]bool{}, YouBlocked: map[int64]bool{},
		Bookmarked: map[int64]bool{}, Reposted: map[int64]bool{},
	}
	if len(userIDs) == 0 && len(postIDs) == 0 {
		return s, nil
	}
	p := NewParams(q.idb)
	viewer, users, posts := p.Arg(viewerID), p.In(userIDs), p.In(postIDs)
	// Read by hand, as pages are: bun's scanning into a slice of structs
	// was a quarter of this query's CPU in Pecan.
	rows, err := q.idb.NewSelect().ColumnExpr("standing.kind, standing.id").TableExpr(`(
		SELECT 'f' AS kind, followee_id AS id FROM follows WHERE follower_id = ? AND followee_id ?
		UNION ALL SELECT 'r', follower_id FROM follows WHERE followee_id = ? AND follower_id ?
		UNION ALL SELECT 'm', muted_id FROM mutes WHERE user_id = ? AND muted_id ?
		UNION ALL SELECT 'b', blocked_id FROM blocks WHERE user_id = ? AND blocked_id ?
		UNION ALL SELECT 'k', post_id FROM bookmarks WHERE user_id = ? AND post_id ?
		UNION ALL SELECT 'p', repost_of FROM posts WHERE user_id = ? AND repost_of ?) AS standing`,
		viewer, users, viewer, users, viewer, users, viewer, users, viewer, posts, viewer, posts,
	).Conn(p.Conn()).Rows(ctx)
	if err != nil {
		return s, fmt.Errorf("standing of user %d: %w", viewerID, err)
	}
	defer rows.Close()
	sets := map[string]map[int64]bool{
		"f": s.YouFollow, "r": s.FollowsYou, "m": s.YouMuted, "b": s.YouBlocked, "k": s.Bookmarked, "p": s.Reposted,
	}
	for rows.Next() {
		var kind string
		var id int64
		if err := rows.Scan(&kind, &id); err != nil {
			return s, fmt.Errorf("standing of user %d: %w", viewerID, err)
		}
		sets[kind][id] = true
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("standing of user %d: %w", viewerID, err)
	}
	return s, nil
}
