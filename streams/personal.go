package streams

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/pecan-social/pecan/app/database"
)

// A personal page reads either one index range per author (the viewer
// and whom they follow) through posts_user_idx, or walks posts by id
// keeping the authors' posts. Per author costs up to count rows for each
// author, however long ago they posted; the walk costs count rows divided
// by the authors' share of recent posts: thousands of rows when they are
// few or quiet, a few times count when they are many. So a viewer who
// follows fewer accounts than these limits gets the per-author ranges and
// one who follows more gets the walk. Measured with TestExplainStreamPlans'
// data (100k posts by 1000 users, a page of 20, times per page):
//
//	following:                 2       10      30      60      100
//	PostgreSQL LATERAL, rows:  86      261     692     1383    2263
//	PostgreSQL LATERAL, ms:    1.2     1.4     2.2     4.4     4.7
//	PostgreSQL walk, rows:     10251   2243    780     467     344
//	PostgreSQL walk, ms:       6.9     1.9     1.4     1.1     1.0
//	SQLite UNION ALL, ms:      2.1     4.9     13.7    27.2    60.5
//	SQLite walk, ms:           3.7     1.0     1.0     0.8     2.5
//
// PostgreSQL plans its LATERAL join once, whatever the number of authors,
// and breaks even near 30 followed accounts here, more on a server with
// more active users (near the square root of their number); SQLite pays
// for every branch of its UNION and breaks even below 10.
const (
	maxLateralAuthors = 50
	maxUnionAuthors   = 8
)

// personalPosts serves the personal and unified streams: the posts of the
// viewer and of those they follow (and, unified, those mentioning the
// viewer), newest first.
func (s *Store) personalPosts(ctx context.Context, f Filter, page Page) (Result, error) {
	// Whoever follows many is walked without asking whom: the walk is
	// right whatever the count says, the ranges need the list.
	walk := f.ViewerFollows >= int64(s.maxAuthors)
	var followed []int64
	if !walk {
		var err error
		if followed, err = s.followed(ctx, f.ViewerID, s.maxAuthors); err != nil {
			return Result{}, err
		}
		walk = len(followed) == s.maxAuthors
	}
	q := database.SelectPostsWithAuthors(s.db)
	// The walk may be a prepared statement; the per-author ranges may not
	// (see database.NewParams).
	var p *database.Params
	if walk {
		p = database.NewParams(s.db)
		q, _ = s.selectStream(p, q, f)
		q = narrow(p, q, f)
	} else {
		p = database.InlineParams(s.db)
		q = q.Where("post.id IN (?)", s.authorsPage(p, append(followed, f.ViewerID), f, page))
	}
	posts, err := database.ReadPostsWithAuthors(ctx, p, paginate(p, q, "post.id", page))
	if err != nil {
		return Result{}, fmt.Errorf("stream of user %d: %w", f.ViewerID, err)
	}
	return trim(posts, page), nil
}

// followed lists up to limit of the accounts the viewer follows.
func (s *Store) followed(ctx context.Context, viewerID int64, limit int) ([]int64, error) {
	var ids []int64
	if limit <= 0 {
		return nil, nil
	}
	p := database.NewParams(s.db)
	err := s.db.NewSelect().Table("follows").Column("followee_id").Where("follower_id = ?", p.Arg(viewerID)).
		Limit(int64(limit)).Conn(p.Conn()).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("followees of user %d: %w", viewerID, err)
	}
	return ids, nil
}

// authorsPage is the ids of one page of the authors' posts: one index
// range per author, each already narrowed and bounded to a page, merged.
// PostgreSQL reads the ranges through a LATERAL join, which it plans once
// whatever the number of authors; SQLite, which has no LATERAL, reads a
// UNION ALL of one range per author. On unified, the posts mentioning the
// viewer are one more range, read through post_mentions, and UNION drops a
// post found twice.
func (s *Store) authorsPage(p *database.Params, authors []int64, f Filter, page Page) *bun.RawQuery {
	var parts []string
	var args []any
	if s.db.Dialect().Name() == dialect.PG {
		// One array parameter, so any number of authors is one statement.
		parts = append(parts, "SELECT p.id FROM unnest(?::bigint[]) AS a (uid) CROSS JOIN LATERAL (?) AS p")
		args = append(args, p.Arg(pgdialect.Array(authors)), s.authorRange(p, bun.Safe("a.uid"), f, page))
	} else {
		for _, author := range authors {
			parts, args = append(parts, "SELECT id FROM (?) AS a"), append(args, s.authorRange(p, author, f, page))
		}
	}
	union := " UNION ALL "
	if f.Kind == Unified {
		q := s.db.NewSelect().TableExpr("post_mentions AS m").Join("JOIN posts AS post ON post.id = m.post_id").
			Column("post.id").Where("m.user_id = ?", p.Arg(f.ViewerID))
		parts, args = append(parts, "SELECT id FROM (?) AS m"), append(args, paginate(p, narrow(p, q, f), "m.post_id", page))
		union = " UNION "
	}
	sql := "SELECT id FROM (" + strings.Join(parts, union) + ") AS page ORDER BY id ? LIMIT ?"
	return s.db.NewRaw(sql, append(args, direction(page), abs(page.Count)+1)...)
}

// authorRange is one page of one author's posts, read backwards (or, for
// a negative count, forwards) through posts_user_idx.
func (s *Store) authorRange(p *database.Params, author any, f Filter, page Page) *bun.SelectQuery {
	q := s.db.NewSelect().TableExpr("posts AS post").Column("post.id").Where("post.user_id = ?", author)
	return paginate(p, narrow(p, q, f), "post.id", page)
}
