package migrations

// Follows say whether the follower is a remote user (a user's domain does
// not change), and a partial index lists just those by followee: every
// local post looks up where its author's remote followers live, and
// through this index that reads only remote followers, none for an author
// followed only here, instead of every follower's user row.
func init() {
	All.MustRegister(run(dialectSQL{
		postgres: remoteFollowers("FALSE", "TRUE"),
		sqlite:   remoteFollowers("0", "1"),
	}), run(same(
		`DROP INDEX follows_remote_idx`,
		`ALTER TABLE follows DROP COLUMN remote_follower`,
	)))
}

func remoteFollowers(falseValue, trueValue string) []string {
	return []string{
		`ALTER TABLE follows ADD COLUMN remote_follower BOOLEAN NOT NULL DEFAULT ` + falseValue,
		`UPDATE follows SET remote_follower = ` + trueValue + ` WHERE follower_id IN (SELECT id FROM users WHERE domain <> '')`,
		`CREATE INDEX follows_remote_idx ON follows (followee_id, follower_id) WHERE remote_follower`,
	}
}
