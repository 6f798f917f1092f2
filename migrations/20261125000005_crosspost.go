package migrations

// Crossposting: a user's targets elsewhere (a Mastodon-API account with its
// token sealed, or a remote actor), one row per post carried to a target
// with the id the target gave it, and a method on deliveries, since a
// crosspost is edited with PUT and deleted with DELETE. Existing rows are
// all POSTs.
func init() {
	All.MustRegister(run(dialectSQL{
		postgres: crosspostSchema("BIGSERIAL PRIMARY KEY", "BIGINT", "TIMESTAMPTZ"),
		sqlite:   crosspostSchema("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "TIMESTAMP"),
	}), run(same(
		`DROP TABLE crossposts`,
		`DROP TABLE crosspost_targets`,
		`ALTER TABLE deliveries DROP COLUMN method`,
	)))
}

func crosspostSchema(serial, bigint, timestamp string) []string {
	return []string{
		`ALTER TABLE deliveries ADD COLUMN method TEXT NOT NULL DEFAULT 'POST'`,
		`CREATE TABLE crosspost_targets (
			id ` + serial + `,
			user_id ` + bigint + ` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			kind TEXT NOT NULL,
			remote_key TEXT NOT NULL,
			handle TEXT NOT NULL,
			profile_url TEXT NOT NULL DEFAULT '',
			server_url TEXT NOT NULL DEFAULT '',
			sealed_token TEXT NOT NULL DEFAULT '',
			remote_user_id ` + bigint + ` REFERENCES users (id) ON DELETE CASCADE,
			created_at ` + timestamp + ` NOT NULL
		)`,
		`CREATE UNIQUE INDEX crosspost_targets_user_idx ON crosspost_targets (user_id, kind, remote_key)`,
		`CREATE TABLE crossposts (
			id ` + serial + `,
			post_id ` + bigint + ` NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
			target_id ` + bigint + ` NOT NULL REFERENCES crosspost_targets (id) ON DELETE CASCADE,
			delivery_id ` + bigint + ` NOT NULL,
			remote_id TEXT NOT NULL DEFAULT '',
			remote_url TEXT NOT NULL DEFAULT '',
			created_at ` + timestamp + ` NOT NULL,
			delivered_at ` + timestamp + `
		)`,
		`CREATE UNIQUE INDEX crossposts_post_target_idx ON crossposts (post_id, target_id)`,
		`CREATE INDEX crossposts_target_idx ON crossposts (target_id)`,
	}
}
