package database

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/pecan-social/pecan/models"
)

// InsertPost writes p and sets its ID. A post that starts a thread is its
// own thread root, which needs its id, so it is known in the INSERT: on
// PostgreSQL taken from the sequence, in a WITH query evaluated once
// however often it is referred to; on SQLite foreseen (see sqliteNextPostID)
// and, should the guess be wrong, written after. The post is marked for
// the global stream here, from its author's type, so no caller can forget
// to.
func (q Queries) InsertPost(ctx context.Context, p *models.Post) error {
	ins := q.idb.NewInsert().Model(p).
		Value("in_global", "EXISTS (SELECT 1 FROM users WHERE id = ? AND type = ?)", p.UserID, models.UserHuman)
	newThread := p.ThreadID == 0 && p.ID == 0
	if newThread {
		switch q.idb.Dialect().Name() {
		case dialect.PG:
			ins = ins.With("next_post", q.idb.NewSelect().ColumnExpr("nextval(pg_get_serial_sequence('posts', 'id')) AS id")).
				Value("id", "(SELECT id FROM next_post)").Value("thread_id", "(SELECT id FROM next_post)").
				Returning("id, thread_id")
		case dialect.SQLite:
			ins = ins.Value("thread_id", sqliteNextPostID).Returning("id, thread_id")
		}
	}
	if _, err := ins.Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("insert post: %w", ErrDuplicate)
		}
		return fmt.Errorf("insert post: %w", err)
	}
	if !newThread || p.ThreadID == p.ID {
		return nil
	}
	p.ThreadID = p.ID
	_, err := q.idb.NewUpdate().Model(p).Column("thread_id").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("set thread of post %d: %w", p.ID, err)
	}
	return nil
}

// sqliteNextPostID is the id SQLite gives the next post: one more than the
// larger of the AUTOINCREMENT counter and the largest id. Only the writer
// holding the database's one write lock can insert, and an INSERT takes
// that lock before it reads this, so no other post can take the id
// between. bun leaves the id itself for SQLite to choose.
const sqliteNextPostID = `(SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'posts'), 0),
	COALESCE((SELECT MAX(id) FROM posts), 0)) + 1)`

// PostByID loads a post with its author. It is read by hand and prepared,
// as stream pages are: GET /posts/{id} and every thread page start here.
func (q Queries) PostByID(ctx context.Context, id int64) (*models.Post, error) {
	p := NewParams(q.idb)
	posts, err := ReadPostsWithAuthors(ctx, p, SelectPostsWithAuthors(q.idb).Where("post.id = ?", p.Arg(id)))
	if err == nil && len(posts) == 0 {
		err = sql.ErrNoRows
	}
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("post %d", id))
	}
	return posts[0], nil
}

// PostsByIDs loads posts with their authors, in no particular order.
func (q Queries) PostsByIDs(ctx context.Context, ids []int64) ([]*models.Post, error) {
	var posts []*models.Post
	if len(ids) == 0 {
		return posts, nil
	}
	err := q.idb.NewSelect().Model(&posts).Relation("User", models.UserSummary).Where("post.id IN (?)", bun.In(ids)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("load posts: %w", err)
	}
	return posts, nil
}

// ReviseWindow is what a revision may change, and the conditions under which
// it may.
type ReviseWindow struct {
	PostID    int64
	UserID    int64
	Text      string
	Entities  models.Entities
	IsNSFW    bool
	RevisedAt time.Time
	NotBefore time.Time // the post must be created at or after this: "within 300 s" includes 300 s
}

// RevisePost applies a revision only if the post is the user's, live, not
// yet revised and inside the window, all in one statement, so of two racing
// revisions exactly one changes a row. It reports whether it did.
func (q Queries) RevisePost(ctx context.Context, w ReviseWindow) (bool, error) {
	res, err := q.idb.NewUpdate().Model((*models.Post)(nil)).
		Set("text = ?", w.Text).
		Set("entities = ?", w.Entities).
		Set("is_nsfw = ?", w.IsNSFW).
		Set("is_revised = ?", true).
		Set("revised_at = ?", w.RevisedAt).
		Where("id = ? AND user_id = ? AND deleted_at IS NULL", w.PostID, w.UserID).
		Where("is_revised = ? AND created_at >= ?", false, w.NotBefore).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("revise post %d: %w", w.PostID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InsertRevision keeps a post's earlier version.
func (q Queries) InsertRevision(ctx context.Context, r *models.PostRevision) error {
	if _, err := q.idb.NewInsert().Model(r).Exec(ctx); err != nil {
		return fmt.Errorf("keep revision %d of post %d: %w", r.Revision, r.PostID, err)
	}
	return nil
}

// Revisions lists a post's earlier versions, oldest first.
func (q Queries) Revisions(ctx context.Context, postID int64) ([]*models.PostRevision, error) {
	var revs []*models.PostRevision
	err := q.idb.NewSelect().Model(&revs).Where("post_id = ?", postID).Order("revision").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("revisions of post %d: %w", postID, err)
	}
	return revs, nil
}

// InsertMentionsAndTags indexes post postID by the users it mentions and
// its normalised tags. The mention rows are written with postID whatever
// their PostID says: a new post's are made before it has an id.
func (q Queries) InsertMentionsAndTags(ctx context.Context, mentions []models.PostMention, postID int64, tags []string) error {
	mentions = mentionRowsOf(postID, mentions)
	if len(mentions) > 0 && len(tags) > 0 && q.idb.Dialect().Name() == dialect.PG {
		// Both in one statement: one round trip for a post's index rows.
		rows := tagRows(postID, tags)
		_, err := q.idb.NewRaw("WITH mentions AS (?) ?", q.idb.NewInsert().Model(&mentions), q.idb.NewInsert().Model(&rows)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("index mentions and tags of post %d: %w", postID, err)
		}
		return nil
	}
	if len(mentions) > 0 {
		if _, err := q.idb.NewInsert().Model(&mentions).Exec(ctx); err != nil {
			return fmt.Errorf("index mentions of post %d: %w", postID, err)
		}
	}
	if len(tags) > 0 {
		rows := tagRows(postID, tags)
		if _, err := q.idb.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return fmt.Errorf("index tags of post %d: %w", postID, err)
		}
	}
	return nil
}

// mentionRowsOf is a copy of mentions naming post postID.
func mentionRowsOf(postID int64, mentions []models.PostMention) []models.PostMention {
	rows := slices.Clone(mentions)
	for i := range rows {
		rows[i].PostID = postID
	}
	return rows
}

func tagRows(postID int64, tags []string) []models.PostTag {
	rows := make([]models.PostTag, len(tags))
	for i, tag := range tags {
		rows[i] = models.PostTag{PostID: postID, Tag: tag}
	}
	return rows
}

// SetLeadingMentions marks which of a post's mentioned users it now
// addresses (leading) and which it does not: a revision keeps the users
// but may move them.
func (q Queries) SetLeadingMentions(ctx context.Context, postID int64, leading []int64) error {
	_, err := q.idb.NewUpdate().Model((*models.PostMention)(nil)).Set("is_leading = ?", false).
		Where("post_id = ?", postID).Exec(ctx)
	if err == nil && len(leading) > 0 {
		_, err = q.idb.NewUpdate().Model((*models.PostMention)(nil)).Set("is_leading = ?", true).
			Where("post_id = ? AND user_id IN (?)", postID, bun.In(leading)).Exec(ctx)
	}
	if err != nil {
		return fmt.Errorf("update leading mentions of post %d: %w", postID, err)
	}
	return nil
}

// Counters a post keeps; the names are columns, never user input.
const (
	CountReplies   = "reply_count"
	CountReposts   = "repost_count"
	CountBookmarks = "bookmark_count"
	CountThread    = "thread_count"
	CountPosts     = "post_count"
	CountFollowers = "follower_count"
	CountFollowing = "following_count"
)

// AddToPostCount moves one of a post's counters in place, so concurrent
// changes add up instead of overwriting each other.
func (q Queries) AddToPostCount(ctx context.Context, postID int64, column string, delta int) error {
	_, err := q.idb.NewUpdate().Model((*models.Post)(nil)).
		Set("? = ? + ?", bun.Ident(column), bun.Ident(column), delta).
		Where("id = ?", postID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("count %s of post %d: %w", column, postID, err)
	}
	return nil
}

// AddToUserCount moves one of a user's counters in place.
func (q Queries) AddToUserCount(ctx context.Context, userID int64, column string, delta int) error {
	_, err := q.BumpUserCount(ctx, userID, column, delta)
	return err
}

// BumpUserCount moves one of a user's counters by delta and returns its
// new value.
func (q Queries) BumpUserCount(ctx context.Context, userID int64, column string, delta int) (int64, error) {
	var n int64
	p := NewParams(q.idb) // on every post
	err := q.idb.NewUpdate().Model((*models.User)(nil)).
		Set("? = ? + ?", bun.Ident(column), bun.Ident(column), p.Arg(delta)).
		Where("id = ?", p.Arg(userID)).Returning("?", bun.Ident(column)).Conn(p.Conn()).Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("count %s of user %d: %w", column, userID, err)
	}
	return n, nil
}

// SoftDeletePost marks a live post deleted and reports whether it was live.
func (q Queries) SoftDeletePost(ctx context.Context, id int64, now time.Time) (bool, error) {
	res, err := q.idb.NewUpdate().Model((*models.Post)(nil)).
		Set("deleted_at = ?", now).
		Where("id = ? AND deleted_at IS NULL", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("delete post %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RepostsOf lists the reposts of a post.
func (q Queries) RepostsOf(ctx context.Context, postID int64) ([]*models.Post, error) {
	var reposts []*models.Post
	err := q.idb.NewSelect().Model(&reposts).Where("repost_of = ?", postID).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("reposts of post %d: %w", postID, err)
	}
	return reposts, nil
}

// RepostBy finds a user's repost of a post.
func (q Queries) RepostBy(ctx context.Context, userID, postID int64) (*models.Post, error) {
	p := new(models.Post)
	err := q.idb.NewSelect().Model(p).Where("user_id = ? AND repost_of = ?", userID, postID).Scan(ctx)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("repost of %d by user %d", postID, userID))
	}
	return p, nil
}

// DeletePostRow removes a repost outright: reposts have no content of their
// own to keep, and pnut answers 404 for a removed one.
func (q Queries) DeletePostRow(ctx context.Context, id int64) (bool, error) {
	res, err := q.idb.NewDelete().Model((*models.Post)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("remove post %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InsertBookmark adds a bookmark and reports whether it is new. An existing
// one is left alone without an error, which on PostgreSQL would abort the
// caller's transaction.
func (q Queries) InsertBookmark(ctx context.Context, b *models.Bookmark) (bool, error) {
	res, err := q.idb.NewInsert().Model(b).On("CONFLICT (user_id, post_id) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("bookmark post %d: %w", b.PostID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UpdateBookmarkNote changes the note of an existing bookmark.
func (q Queries) UpdateBookmarkNote(ctx context.Context, userID, postID int64, note string) error {
	_, err := q.idb.NewUpdate().Model((*models.Bookmark)(nil)).Set("note = ?", note).
		Where("user_id = ? AND post_id = ?", userID, postID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update bookmark note of post %d: %w", postID, err)
	}
	return nil
}

// DeleteBookmark removes a bookmark and reports whether there was one.
func (q Queries) DeleteBookmark(ctx context.Context, userID, postID int64) (bool, error) {
	res, err := q.idb.NewDelete().Model((*models.Bookmark)(nil)).
		Where("user_id = ? AND post_id = ?", userID, postID).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("remove bookmark of post %d: %w", postID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func asSet(ids []int64) map[int64]bool {
	set := make(map[int64]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set
}

// ReplacePostContent overwrites a remote post's text, entities and flags
// after an Update, with its mentions and tags indexed anew.
func (q Queries) ReplacePostContent(ctx context.Context, p *models.Post, mentions []models.PostMention, tags []string) error {
	_, err := q.idb.NewUpdate().Model(p).Column("text", "entities", "is_nsfw", "is_revised", "revised_at").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("replace content of post %d: %w", p.ID, err)
	}
	if _, err := q.idb.NewDelete().Model((*models.PostMention)(nil)).Where("post_id = ?", p.ID).Exec(ctx); err != nil {
		return fmt.Errorf("unindex mentions of post %d: %w", p.ID, err)
	}
	if _, err := q.idb.NewDelete().Model((*models.PostTag)(nil)).Where("post_id = ?", p.ID).Exec(ctx); err != nil {
		return fmt.Errorf("unindex tags of post %d: %w", p.ID, err)
	}
	return q.InsertMentionsAndTags(ctx, mentions, p.ID, tags)
}

// HasRevision reports whether a post's original is kept already.
func (q Queries) HasRevision(ctx context.Context, postID int64) (bool, error) {
	n, err := q.idb.NewSelect().Model((*models.PostRevision)(nil)).Where("post_id = ?", postID).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("revisions of post %d: %w", postID, err)
	}
	return n > 0, nil
}
