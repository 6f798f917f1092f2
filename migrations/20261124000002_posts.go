package migrations

// Posts and what hangs off them: the original of a revised post, mentions
// and tags for the streams that find posts by them, bookmarks, and the
// events table the delivery queue will consume.
func init() {
	All.MustRegister(run(dialectSQL{
		postgres: postsSchema("BIGSERIAL PRIMARY KEY", "BIGINT", "TIMESTAMPTZ", "BOOLEAN", "FALSE"),
		sqlite:   postsSchema("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "TIMESTAMP", "BOOLEAN", "0"),
	}), run(same(
		`DROP TABLE events`,
		`DROP TABLE bookmarks`,
		`DROP TABLE post_tags`,
		`DROP TABLE post_mentions`,
		`DROP TABLE post_revisions`,
		`DROP TABLE posts`,
		`ALTER TABLE users DROP COLUMN post_count`,
		`ALTER TABLE users DROP COLUMN bookmark_count`,
	)))
}

func postsSchema(serial, bigint, timestamp, boolean, falseValue string) []string {
	return []string{
		`ALTER TABLE users ADD COLUMN post_count ` + bigint + ` NOT NULL DEFAULT 0`,
		`ALTER TABLE users ADD COLUMN bookmark_count ` + bigint + ` NOT NULL DEFAULT 0`,
		`CREATE TABLE posts (
			id ` + serial + `,
			user_id ` + bigint + ` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			text TEXT NOT NULL,
			entities TEXT NOT NULL,
			is_nsfw ` + boolean + ` NOT NULL DEFAULT ` + falseValue + `,
			reply_to ` + bigint + ` REFERENCES posts (id),
			thread_id ` + bigint + ` NOT NULL,
			repost_of ` + bigint + ` REFERENCES posts (id),
			raw TEXT NOT NULL DEFAULT '{}',
			source_name TEXT NOT NULL DEFAULT '',
			is_revised ` + boolean + ` NOT NULL DEFAULT ` + falseValue + `,
			reply_count ` + bigint + ` NOT NULL DEFAULT 0,
			repost_count ` + bigint + ` NOT NULL DEFAULT 0,
			bookmark_count ` + bigint + ` NOT NULL DEFAULT 0,
			thread_count ` + bigint + ` NOT NULL DEFAULT 0,
			created_at ` + timestamp + ` NOT NULL,
			revised_at ` + timestamp + `,
			deleted_at ` + timestamp + `
		)`,
		`CREATE INDEX posts_user_idx ON posts (user_id, id)`,
		`CREATE INDEX posts_thread_idx ON posts (thread_id, id)`,
		`CREATE INDEX posts_reply_to_idx ON posts (reply_to) WHERE reply_to IS NOT NULL`,
		`CREATE INDEX posts_repost_of_idx ON posts (repost_of) WHERE repost_of IS NOT NULL`,
		// One live repost per user and post: the database settles racing PUTs.
		`CREATE UNIQUE INDEX posts_one_repost_idx ON posts (user_id, repost_of) WHERE repost_of IS NOT NULL`,
		`CREATE TABLE post_revisions (
			post_id ` + bigint + ` NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
			revision INTEGER NOT NULL,
			text TEXT NOT NULL,
			entities TEXT NOT NULL,
			is_nsfw ` + boolean + ` NOT NULL,
			created_at ` + timestamp + ` NOT NULL,
			PRIMARY KEY (post_id, revision)
		)`,
		`CREATE TABLE post_mentions (
			post_id ` + bigint + ` NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
			user_id ` + bigint + ` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			is_leading ` + boolean + ` NOT NULL DEFAULT ` + falseValue + `,
			PRIMARY KEY (post_id, user_id)
		)`,
		`CREATE INDEX post_mentions_user_idx ON post_mentions (user_id, post_id)`,
		`CREATE TABLE post_tags (
			post_id ` + bigint + ` NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
			tag TEXT NOT NULL,
			PRIMARY KEY (post_id, tag)
		)`,
		`CREATE INDEX post_tags_tag_idx ON post_tags (tag, post_id)`,
		`CREATE TABLE bookmarks (
			id ` + serial + `,
			user_id ` + bigint + ` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			post_id ` + bigint + ` NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
			note TEXT NOT NULL DEFAULT '',
			created_at ` + timestamp + ` NOT NULL
		)`,
		`CREATE UNIQUE INDEX bookmarks_user_post_idx ON bookmarks (user_id, post_id)`,
		`CREATE INDEX bookmarks_user_idx ON bookmarks (user_id, id)`,
		`CREATE TABLE events (
			id ` + serial + `,
			type TEXT NOT NULL,
			user_id ` + bigint + ` NOT NULL,
			post_id ` + bigint + `,
			payload TEXT NOT NULL,
			created_at ` + timestamp + ` NOT NULL
		)`,
	}
}
