package migrations

func init() {
	All.MustRegister(run(dialectSQL{
		postgres: []string{
			`CREATE TABLE users (
				id BIGSERIAL PRIMARY KEY,
				username TEXT NOT NULL,
				username_key TEXT NOT NULL,
				name TEXT NOT NULL DEFAULT '',
				type TEXT NOT NULL CHECK (type IN ('human', 'feed', 'bot')),
				profile_text TEXT NOT NULL DEFAULT '',
				locale TEXT NOT NULL DEFAULT 'en_US',
				timezone TEXT NOT NULL DEFAULT 'UTC',
				password_hash TEXT NOT NULL DEFAULT '',
				created_at TIMESTAMPTZ NOT NULL,
				updated_at TIMESTAMPTZ NOT NULL
			)`,
			`CREATE UNIQUE INDEX users_username_key_idx ON users (username_key)`,
			`CREATE TABLE tokens (
				id BIGSERIAL PRIMARY KEY,
				user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				hash TEXT NOT NULL,
				label TEXT NOT NULL DEFAULT '',
				scopes TEXT NOT NULL,
				created_at TIMESTAMPTZ NOT NULL,
				expires_at TIMESTAMPTZ,
				last_used_at TIMESTAMPTZ,
				revoked_at TIMESTAMPTZ
			)`,
			`CREATE UNIQUE INDEX tokens_hash_idx ON tokens (hash)`,
			`CREATE INDEX tokens_user_id_idx ON tokens (user_id, id)`,
		},
		sqlite: []string{
			`CREATE TABLE users (
				id INTEGER PRIMARY KEY AUTOINCREMENT,
				username TEXT NOT NULL,
				username_key TEXT NOT NULL,
				name TEXT NOT NULL DEFAULT '',
				type TEXT NOT NULL CHECK (type IN ('human', 'feed', 'bot')),
				profile_text TEXT NOT NULL DEFAULT '',
				locale TEXT NOT NULL DEFAULT 'en_US',
				timezone TEXT NOT NULL DEFAULT 'UTC',
				password_hash TEXT NOT NULL DEFAULT '',
				created_at TIMESTAMP NOT NULL,
				updated_at TIMESTAMP NOT NULL
			)`,
			`CREATE UNIQUE INDEX users_username_key_idx ON users (username_key)`,
			`CREATE TABLE tokens (
				id INTEGER PRIMARY KEY AUTOINCREMENT,
				user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				hash TEXT NOT NULL,
				label TEXT NOT NULL DEFAULT '',
				scopes TEXT NOT NULL,
				created_at TIMESTAMP NOT NULL,
				expires_at TIMESTAMP,
				last_used_at TIMESTAMP,
				revoked_at TIMESTAMP
			)`,
			`CREATE UNIQUE INDEX tokens_hash_idx ON tokens (hash)`,
			`CREATE INDEX tokens_user_id_idx ON tokens (user_id, id)`,
		},
	}), run(same(
		`DROP TABLE tokens`,
		`DROP TABLE users`,
	)))
}
