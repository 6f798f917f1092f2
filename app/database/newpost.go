package database

import (
	"context"
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
	if p.ID != 0 || p.RepostOf != nil {
		return 0, fmt.Errorf("create post: only new posts, not post %d or a repost", p.ID)
	}
	if q.idb.Dialect().Name() != dialect.PG {
		return q.createPostByStatements(ctx, p, mentions, tags)
	}
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
	var count int64
	var heard models.Listeners
	err := q.idb.NewRaw(createPostSQL,
		params.Arg(p.UserID), params.Arg(p.Text), params.Arg(p.Entities), params.Arg(p.IsNSFW),
		params.Arg(p.ReplyTo), params.Arg(thread), params.Arg(p.Raw), params.Arg(p.SourceName),
		params.Arg(p.CreatedAt), params.Arg(string(models.UserHuman)),
		params.Arg(mentioned), params.Arg(leading), params.Arg(tags), params.Arg(p.APID), params.Arg(p.APURL),
	).Conn(params.Conn()).Scan(ctx, &p.ID, &p.ThreadID, &count, &heard.Webhooks, &heard.RemoteFollowers)
	if p.APID != nil && isUniqueViolation(err) { // only ap_id is unique to a post of these rows
		return 0, fmt.Errorf("create post by user %d: %w", p.UserID, ErrDuplicate)
	}
	if err != nil {
		return 0, fmt.Errorf("create post by user %d: %w", p.UserID, err)
	}
	p.Listeners = &heard
	return count, nil
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
// Without an author row nothing is written and no row comes back.
const createPostSQL = `WITH author AS (
	UPDATE users SET post_count = post_count + 1 WHERE id = ?0 RETURNING post_count, type = ?9 AS in_global
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
SELECT post.id, post.thread_id, author.post_count,
	EXISTS (SELECT 1 FROM webhooks WHERE user_id = ?0 OR user_id = ANY(CAST(?10 AS BIGINT[]))),
	EXISTS (SELECT 1 FROM follows WHERE followee_id = ?0 AND remote_follower)
FROM post, author`

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
