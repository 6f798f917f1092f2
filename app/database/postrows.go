package database

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/pecan-social/pecan/models"
)

// Stream pages are read by hand rather than through bun's models: bun
// looks every column up by name and converts it through reflection, which
// was a third of the CPU of serving a page of 20 posts. The columns are
// listed once here, in the order scanPost reads them, and
// TestPostRowsMatchBun checks they are every column bun would read.

const postColumns = `post.id, post.user_id, post.text, post.entities, post.is_nsfw, post.reply_to,
	post.thread_id, post.repost_of, post.raw, post.source_name, post.is_revised, post.reply_count,
	post.repost_count, post.bookmark_count, post.thread_count, post.created_at, post.revised_at,
	post.deleted_at, post.ap_id, post.ap_url, post.repost_of_user_id`

// authorColumns is models.UserSummary's: all but the password hash and
// the keys.
const authorColumns = `"user".id, "user".username, "user".username_key, "user".name, "user".type,
	"user".profile_text, "user".locale, "user".timezone, "user".post_count, "user".bookmark_count,
	"user".follower_count, "user".following_count, "user".created_at, "user".updated_at,
	"user".domain, "user".actor_id, "user".inbox_url, "user".shared_inbox_url, "user".profile_url,
	"user".key_id, "user".fetched_at`

// SelectPosts starts a query of posts (as "post") that ReadPosts reads.
func SelectPosts(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().TableExpr("posts AS post").ColumnExpr(postColumns)
}

// SelectPostsWithAuthors starts a query of posts (as "post") with their
// authors (as "user") that ReadPostsWithAuthors reads.
func SelectPostsWithAuthors(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().TableExpr("posts AS post").
		Join(`LEFT JOIN users AS "user" ON "user".id = post.user_id`).
		ColumnExpr(postColumns + ", " + authorColumns)
}

// ReadPosts runs a query begun with SelectPosts through p.
func ReadPosts(ctx context.Context, p *Params, q *bun.SelectQuery) ([]*models.Post, error) {
	return readPosts(ctx, p, q, false)
}

// ReadPostsWithAuthors runs a query begun with SelectPostsWithAuthors
// through p.
func ReadPostsWithAuthors(ctx context.Context, p *Params, q *bun.SelectQuery) ([]*models.Post, error) {
	return readPosts(ctx, p, q, true)
}

func readPosts(ctx context.Context, p *Params, q *bun.SelectQuery, withAuthors bool) ([]*models.Post, error) {
	rows, err := q.Conn(p.Conn()).Rows(ctx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	row := newPostRow(withAuthors)
	var posts []*models.Post
	for rows.Next() {
		post, err := row.scan(rows)
		if err != nil {
			return nil, err
		}
		posts = append(posts, post)
	}
	return posts, rows.Err()
}

// postRow is where rows are scanned to, one after the other, so that the
// list of destinations is made once per query rather than once per row.
type postRow struct {
	post     models.Post
	user     models.User
	userType string
	dst      []any
	author   bool
}

func newPostRow(withAuthor bool) *postRow {
	r := &postRow{author: withAuthor}
	p, u := &r.post, &r.user
	r.dst = []any{&p.ID, &p.UserID, &p.Text, entitiesCol{&p.Entities}, &p.IsNSFW, null[int64]{&p.ReplyTo},
		&p.ThreadID, null[int64]{&p.RepostOf}, &p.Raw, &p.SourceName, &p.IsRevised, &p.ReplyCount,
		&p.RepostCount, &p.BookmarkCount, &p.ThreadCount, timeCol{&p.CreatedAt}, nullTime{&p.RevisedAt},
		nullTime{&p.DeletedAt}, null[string]{&p.APID}, &p.APURL, null[int64]{&p.RepostOfUserID}}
	if withAuthor {
		r.dst = append(r.dst, &u.ID, &u.Username, &u.UsernameKey, &u.Name, &r.userType,
			&u.ProfileText, &u.Locale, &u.Timezone, &u.PostCount, &u.BookmarkCount,
			&u.FollowerCount, &u.FollowingCount, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt},
			&u.Domain, null[string]{&u.ActorID}, &u.InboxURL, &u.SharedInboxURL, &u.ProfileURL,
			null[string]{&u.KeyID}, nullTime{&u.FetchedAt})
	}
	return r
}

// scan reads the current row into a new post (and author).
func (r *postRow) scan(rows *sql.Rows) (*models.Post, error) {
	// Zeroed first: JSON columns decode into what is there, and would
	// otherwise share the previous row's slices and maps.
	r.post, r.user = models.Post{}, models.User{}
	if err := rows.Scan(r.dst...); err != nil {
		return nil, fmt.Errorf("read a post: %w", err)
	}
	post := new(models.Post)
	*post = r.post
	if r.author {
		post.User = new(models.User)
		*post.User = r.user
		post.User.Type = models.UserType(r.userType)
	}
	return post, nil
}

// The column types below take what both drivers give: pgx a time.Time for
// a timestamp, SQLite the text bun wrote.

type timeCol struct{ dst *time.Time }

func (c timeCol) Scan(src any) error {
	t, err := parseTime(src)
	*c.dst = t
	return err
}

type nullTime struct{ dst **time.Time }

func (c nullTime) Scan(src any) error {
	if src == nil {
		*c.dst = nil
		return nil
	}
	t, err := parseTime(src)
	*c.dst = &t
	return err
}

// timeLayouts are the ways SQLite may hand back a time bun stored.
var timeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"}

func parseTime(src any) (time.Time, error) {
	var text string
	switch v := src.(type) {
	case time.Time:
		return v.UTC(), nil
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return time.Time{}, fmt.Errorf("read a time: unexpected %T", src)
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, text); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("read a time: cannot parse %q", text)
}

// null reads a nullable column into a pointer: nil for NULL.
type null[T any] struct{ dst **T }

func (c null[T]) Scan(src any) error {
	var n sql.Null[T]
	if err := n.Scan(src); err != nil {
		return err
	}
	*c.dst = nil
	if n.Valid {
		*c.dst = &n.V
	}
	return nil
}
