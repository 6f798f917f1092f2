package migrations

// Reposts carry the reposted post's author, so streams can hide a repost
// of someone the viewer blocks or mutes by a column of the row they read,
// not by a lookup of the original for every row.
func init() {
	All.MustRegister(run(dialectSQL{
		postgres: repostAuthors("BIGINT"),
		sqlite:   repostAuthors("INTEGER"),
	}), run(same(
		`ALTER TABLE posts DROP COLUMN repost_of_user_id`,
	)))
}

func repostAuthors(bigint string) []string {
	return []string{
		`ALTER TABLE posts ADD COLUMN repost_of_user_id ` + bigint,
		`UPDATE posts SET repost_of_user_id = (SELECT original.user_id FROM posts AS original WHERE original.id = posts.repost_of)
		 WHERE repost_of IS NOT NULL`,
	}
}
