package migrations

// Posts say whether they belong in the global stream (their author is
// human; a user's type does not change after creation), and a partial
// index lists just those, so a page of global reads count rows through
// it instead of walking every post and dropping the bots'.
func init() {
	All.MustRegister(run(dialectSQL{
		postgres: globalPosts("FALSE", "TRUE"),
		sqlite:   globalPosts("0", "1"),
	}), run(same(
		`DROP INDEX posts_global_idx`,
		`ALTER TABLE posts DROP COLUMN in_global`,
	)))
}

func globalPosts(falseValue, trueValue string) []string {
	return []string{
		`ALTER TABLE posts ADD COLUMN in_global BOOLEAN NOT NULL DEFAULT ` + falseValue,
		`UPDATE posts SET in_global = ` + trueValue + ` WHERE user_id IN (SELECT id FROM users WHERE type = 'human')`,
		`CREATE INDEX posts_global_idx ON posts (id) WHERE in_global`,
	}
}
