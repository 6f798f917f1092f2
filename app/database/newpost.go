package database

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/uptrace/bun/dialect"

	"github.com/pecan-social/pecan/models"
)

// CreatePost writes a new post, its mention and tag rows, and adds
// it to its author's post count, which it returns. p.ThreadID is the
// thread of the post replied to, or zero to start a thread; p.ID and
// p.ThreadID are set. On PostgreSQL it also sets p.Listeners, saving the
// sinks two lookups for a post no one hears. A remote post whose ActivityPub id is stored already
// is ErrDuplicate.
//
// A post is the server's most frequent write. On PostgreSQL it is one
// prepared statement instead of three statements planned anew each time
// (bun writes their values into the text): each statement is a round
// trip, and on a loaded two-core machine the round trips cost more CPU
// than the writes. Elsewhere it is bun's statements.
func (q Queries) CreatePost(ctx context.Context, p *models.Post, mentions []models.PostMention, tags []string) (int64, error) {
	if err := checkNewPost(p); err != nil {
		return 0, err
	}
	if q.idb.Dialect().Name() != dialect.PG {
		return q.createPostByStatements(ctx, p, mentions, tags)
	}
	count, _, err := q.createPostInOne(ctx, p, mentions, tags, false)
	return count, err
}

// CreateUnheardPost is CreatePost for a post that, if no one hears of it,
// has nothing else to write: no events a sink would turn into deliveries
// (events.QuietIfUnheard), no crossposts, no reply counts. On PostgreSQL
// it writes the post, in one statement and so atomically, unless its
// author or a user it mentions has a webhook or its author has followers
// on other servers; then, and on other databases, it writes nothing and
// reports false, and the caller writes the post with CreatePost in a
// transaction, with the news of it.
//
// Run on the pool, not in a transaction, it spares the two round trips of
// BEGIN and COMMIT, which cost a create as much CPU as the write does.
func (q Queries) CreateUnheardPost(ctx context.Context, p *models.Post, mentions []models.PostMention, tags []string) (count int64, written bool, err error) {
	if err := checkNewPost(p); err != nil {
		return 0, false, err
	}
	if q.idb.Dialect().Name() != dialect.PG {
		return 0, false, nil
	}
	return q.createPostInOne(ctx, p, mentions, tags, true)
}

func checkNewPost(p *models.Post) error {
	if p.ID != 0 || p.RepostOf != nil {
		return fmt.Errorf("create post: only new posts, not post %d or a repost", p.ID)
	}
	return nil
}

// createPostInOne runs createPostSQL. With onlyUnheard, a post someone
// hears of is not written, and written is false.
func (q Queries) createPostInOne(ctx context.Context, p *models.Post, mentions []models.PostMention, tags []string, onlyUnheard bool) (count int64, written bool, err error) {
	var thread *int64
	if p.ThreadID != 0 {
		thread = &p.ThreadID
	}
	mentioned, leading := make([]int64, len(mentions)), make([]bool, len(mentions))
	for i, m := range mentions {
		mentioned[i], leading[i] = m.UserID, m.Leading
	}
	if tags == nil {
		tags = []string{}
	}
	params := NewParams(q.idb)
	var id, threadID, postCount sql.NullInt64
	var heard models.Listeners
	err = q.idb.NewRaw(createPostSQL,
		params.Arg(p.UserID), params.Arg(p.Text), params.Arg(p.Entities), params.Arg(p.IsNSFW),
		params.Arg(p.ReplyTo), params.Arg(thread), params.Arg(p.Raw), params.Arg(p.SourceName),
		params.Arg(p.CreatedAt), params.Arg(string(models.UserHuman)),
		params.Arg(mentioned), params.Arg(leading), params.Arg(tags), params.Arg(p.APID), params.Arg(p.APURL),
		params.Arg(onlyUnheard),
	).Conn(params.Conn()).Scan(ctx, &id, &threadID, &postCount, &heard.Webhooks, &heard.RemoteFollowers)
	if p.APID != nil && isUniqueViolation(err) { // only ap_id is unique to a post of these rows
		return 0, false, fmt.Errorf("create post by user %d: %w", p.UserID, ErrDuplicate)
	}
	if err != nil {
		return 0, false, fmt.Errorf("create post by user %d: %w", p.UserID, err)
	}
	switch {
	case id.Valid:
		p.ID, p.ThreadID, p.Listeners = id.Int64, threadID.Int64, &heard
		return postCount.Int64, true, nil
	case onlyUnheard:
		return 0, false, nil
	default:
		return 0, false, fmt.Errorf("create post by user %d: %w", p.UserID, ErrNotFound)
	}
}

// createPostSQL is CreatePost on PostgreSQL. The post takes its id from
// the sequence before the insert, so a new thread's root can name itself
// as its thread. It is in the global stream if its author is a human.
// Whether anyone has a webhook or a remote follower is read in the
// statement's snapshot, taken when it starts: a follow or webhook committed
// while it runs is not seen, even a follow it waited for on the author's
// row, which the lookups it spares (later, in a new snapshot) would have
// seen. Such a follow and post are concurrent; the post may reach the new
// follower or not, as when the follow commits just after the lookup.
// With ?15 (only unheard) a post someone hears of is not written. Without
// an author row nothing is written. The one row that comes back says who
// hears, and the post's id, thread and count if it was written, NULL if not.
const createPostSQL = `WITH heard AS (
	SELECT EXISTS (SELECT 1 FROM webhooks WHERE user_id = ?0 OR user_id = ANY(CAST(?10 AS BIGINT[]))) AS webhooks,
		EXISTS (SELECT 1 FROM follows WHERE followee_id = ?0 AND remote_follower) AS remote_followers
), author AS (
	UPDATE users SET post_count = post_count + 1
	WHERE id = ?0 AND NOT (CAST(?15 AS BOOLEAN) AND (SELECT webhooks OR remote_followers FROM heard))
	RETURNING post_count, type = ?9 AS in_global
), post AS (
	INSERT INTO posts (id, user_id, text, entities, is_nsfw, reply_to, thread_id, raw, source_name, created_at, ap_id, ap_url, in_global)
	SELECT next_post.id, ?0, ?1, ?2, ?3, ?4, COALESCE(CAST(?5 AS BIGINT), next_post.id), ?6, ?7, ?8, ?13, ?14, author.in_global
	FROM (SELECT nextval(pg_get_serial_sequence('posts', 'id')) AS id) AS next_post, author
	RETURNING id, thread_id
), mentions AS (
	INSERT INTO post_mentions (post_id, user_id, is_leading)
	SELECT post.id, m.user_id, m.is_leading FROM post, unnest(CAST(?10 AS BIGINT[]), CAST(?11 AS BOOLEAN[])) AS m (user_id, is_leading)
), tags AS (
	INSERT INTO post_tags (post_id, tag)
	SELECT post.id, t.tag FROM post, unnest(CAST(?12 AS TEXT[])) AS t (tag)
)
SELECT post.id, post.thread_id, author.post_count, heard.webhooks, heard.remote_followers
FROM heard LEFT JOIN (post CROSS JOIN author) ON TRUE`

// createPostByStatements is CreatePost as bun writes it.
func (q Queries) createPostByStatements(ctx context.Context, p *models.Post, mentions []models.PostMention, tags []string) (int64, error) {
	if err := q.InsertPost(ctx, p); err != nil {
		return 0, err
	}
	if err := q.InsertMentionsAndTags(ctx, mentions, p.ID, tags); err != nil {
		return 0, err
	}
	return q.BumpUserCount(ctx, p.UserID, CountPosts, 1)
}
