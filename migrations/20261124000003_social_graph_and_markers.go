package migrations

// Follows, mutes and blocks, the user counts they keep, and the SQL store
// of stream markers used when no Redis is configured.
func init() {
	All.MustRegister(run(dialectSQL{
		postgres: graphSchema("BIGSERIAL PRIMARY KEY", "BIGINT", "TIMESTAMPTZ"),
		sqlite:   graphSchema("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "TIMESTAMP"),
	}), run(same(
		`DROP TABLE markers`,
		`DROP TABLE blocks`,
		`DROP TABLE mutes`,
		`DROP TABLE follows`,
		`ALTER TABLE users DROP COLUMN follower_count`,
		`ALTER TABLE users DROP COLUMN following_count`,
	)))
}

func graphSchema(serial, bigint, timestamp string) []string {
	relation := func(table, subject, object string) []string {
		return []string{
			`CREATE TABLE ` + table + ` (
				id ` + serial + `,
				` + subject + ` ` + bigint + ` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				` + object + ` ` + bigint + ` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				created_at ` + timestamp + ` NOT NULL
			)`,
			`CREATE UNIQUE INDEX ` + table + `_pair_idx ON ` + table + ` (` + subject + `, ` + object + `)`,
			`CREATE INDEX ` + table + `_subject_idx ON ` + table + ` (` + subject + `, id)`,
			`CREATE INDEX ` + table + `_object_idx ON ` + table + ` (` + object + `, id)`,
		}
	}
	out := []string{
		`ALTER TABLE users ADD COLUMN follower_count ` + bigint + ` NOT NULL DEFAULT 0`,
		`ALTER TABLE users ADD COLUMN following_count ` + bigint + ` NOT NULL DEFAULT 0`,
	}
	out = append(out, relation("follows", "follower_id", "followee_id")...)
	out = append(out, relation("mutes", "user_id", "muted_id")...)
	out = append(out, relation("blocks", "user_id", "blocked_id")...)
	return append(out, `CREATE TABLE markers (
		user_id `+bigint+` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		id `+bigint+` NOT NULL,
		last_read_id `+bigint+` NOT NULL,
		percentage INTEGER NOT NULL,
		version `+bigint+` NOT NULL,
		updated_at `+timestamp+` NOT NULL,
		PRIMARY KEY (user_id, name)
	)`)
}
