package migrations

// Federation: remote users and posts live in the users and posts tables
// with their ActivityPub ids; local users get a key pair; follows carry the
// id of the Follow activity that made them; outgoing follows wait for an
// Accept in follow_requests; inbox_activities makes every inbound activity
// idempotent; tombstones keep deleted remote objects from coming back.
func init() {
	All.MustRegister(run(dialectSQL{
		postgres: federationSchema("BIGSERIAL PRIMARY KEY", "BIGINT", "TIMESTAMPTZ"),
		sqlite:   federationSchema("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "TIMESTAMP"),
	}), run(same(
		`DROP TABLE server_keys`,
		`DROP TABLE tombstones`,
		`DROP TABLE inbox_activities`,
		`DROP TABLE follow_requests`,
		`DROP INDEX follows_ap_id_idx`,
		`ALTER TABLE follows DROP COLUMN ap_id`,
		`DROP INDEX posts_ap_id_idx`,
		`ALTER TABLE posts DROP COLUMN ap_id`,
		`ALTER TABLE posts DROP COLUMN ap_url`,
		`DROP INDEX users_actor_id_idx`,
		`DROP INDEX users_key_id_idx`,
		`ALTER TABLE users DROP COLUMN domain`,
		`ALTER TABLE users DROP COLUMN actor_id`,
		`ALTER TABLE users DROP COLUMN inbox_url`,
		`ALTER TABLE users DROP COLUMN shared_inbox_url`,
		`ALTER TABLE users DROP COLUMN profile_url`,
		`ALTER TABLE users DROP COLUMN key_id`,
		`ALTER TABLE users DROP COLUMN public_key_pem`,
		`ALTER TABLE users DROP COLUMN private_key_pem`,
		`ALTER TABLE users DROP COLUMN fetched_at`,
	)))
}

func federationSchema(serial, bigint, timestamp string) []string {
	return []string{
		`ALTER TABLE users ADD COLUMN domain TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN actor_id TEXT`,
		`ALTER TABLE users ADD COLUMN inbox_url TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN shared_inbox_url TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN profile_url TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN key_id TEXT`,
		`ALTER TABLE users ADD COLUMN public_key_pem TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN private_key_pem TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN fetched_at ` + timestamp,
		`CREATE UNIQUE INDEX users_actor_id_idx ON users (actor_id) WHERE actor_id IS NOT NULL`,
		`CREATE INDEX users_key_id_idx ON users (key_id) WHERE key_id IS NOT NULL`,
		`ALTER TABLE posts ADD COLUMN ap_id TEXT`,
		`ALTER TABLE posts ADD COLUMN ap_url TEXT NOT NULL DEFAULT ''`,
		`CREATE UNIQUE INDEX posts_ap_id_idx ON posts (ap_id) WHERE ap_id IS NOT NULL`,
		`ALTER TABLE follows ADD COLUMN ap_id TEXT`,
		`CREATE INDEX follows_ap_id_idx ON follows (ap_id) WHERE ap_id IS NOT NULL`,
		`CREATE TABLE follow_requests (
			id ` + serial + `,
			follower_id ` + bigint + ` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			followee_id ` + bigint + ` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			created_at ` + timestamp + ` NOT NULL
		)`,
		`CREATE UNIQUE INDEX follow_requests_pair_idx ON follow_requests (follower_id, followee_id)`,
		`CREATE TABLE inbox_activities (
			ap_id TEXT PRIMARY KEY,
			received_at ` + timestamp + ` NOT NULL
		)`,
		`CREATE TABLE tombstones (
			ap_id TEXT PRIMARY KEY,
			actor_id TEXT NOT NULL,
			deleted_at ` + timestamp + ` NOT NULL
		)`,
		`CREATE TABLE server_keys (
			name TEXT PRIMARY KEY,
			public_key_pem TEXT NOT NULL,
			private_key_pem TEXT NOT NULL,
			created_at ` + timestamp + ` NOT NULL
		)`,
	}
}
