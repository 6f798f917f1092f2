package migrations

// OAuth: registered apps, authorization codes, the grants users gave apps,
// and tokens that belong to an app (with a user, or, for app tokens,
// without one). SQLite cannot drop NOT NULL from a column, so there the
// tokens table is rebuilt.
func init() {
	All.MustRegister(run(dialectSQL{
		postgres: append(append(appsSchema("BIGSERIAL PRIMARY KEY", "BIGINT", "TIMESTAMPTZ"),
			`ALTER TABLE tokens ALTER COLUMN user_id DROP NOT NULL`,
			`ALTER TABLE tokens ADD COLUMN app_id BIGINT REFERENCES apps (id) ON DELETE CASCADE`,
			`ALTER TABLE tokens ADD CONSTRAINT tokens_owner_check CHECK (user_id IS NOT NULL OR app_id IS NOT NULL)`,
			`CREATE INDEX tokens_app_id_idx ON tokens (app_id, user_id) WHERE app_id IS NOT NULL`,
		), oauthSchema("BIGSERIAL PRIMARY KEY", "BIGINT", "TIMESTAMPTZ")...),
		sqlite: append(append(appsSchema("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "TIMESTAMP"),
			sqliteTokensTable(true)...), oauthSchema("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "TIMESTAMP")...),
	}), run(dialectSQL{
		postgres: []string{
			`DROP TABLE oauth_grants`,
			`DROP TABLE oauth_codes`,
			`DELETE FROM tokens WHERE app_id IS NOT NULL`,
			`DROP INDEX tokens_app_id_idx`,
			`ALTER TABLE tokens DROP CONSTRAINT tokens_owner_check`,
			`ALTER TABLE tokens DROP COLUMN app_id`,
			`ALTER TABLE tokens ALTER COLUMN user_id SET NOT NULL`,
			`DROP TABLE apps`,
		},
		sqlite: append(append([]string{
			`DROP TABLE oauth_grants`,
			`DROP TABLE oauth_codes`,
			`DELETE FROM tokens WHERE app_id IS NOT NULL`,
		}, sqliteTokensTable(false)...), `DROP TABLE apps`),
	}))
}

func appsSchema(serial, bigint, timestamp string) []string {
	return []string{
		`CREATE TABLE apps (
			id ` + serial + `,
			client_id TEXT NOT NULL,
			secret_hash TEXT NOT NULL,
			name TEXT NOT NULL,
			website TEXT NOT NULL DEFAULT '',
			redirect_uris TEXT NOT NULL,
			scopes TEXT NOT NULL,
			owner_id ` + bigint + ` REFERENCES users (id) ON DELETE CASCADE,
			trusted BOOLEAN NOT NULL DEFAULT FALSE,
			password_grant_secret_hash TEXT NOT NULL DEFAULT '',
			created_at ` + timestamp + ` NOT NULL
		)`,
		`CREATE UNIQUE INDEX apps_client_id_idx ON apps (client_id)`,
		`CREATE INDEX apps_owner_id_idx ON apps (owner_id, id) WHERE owner_id IS NOT NULL`,
	}
}

func oauthSchema(serial, bigint, timestamp string) []string {
	return []string{
		`CREATE TABLE oauth_codes (
			id ` + serial + `,
			hash TEXT NOT NULL,
			app_id ` + bigint + ` NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
			user_id ` + bigint + ` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			redirect_uri TEXT NOT NULL,
			scopes TEXT NOT NULL,
			code_challenge TEXT NOT NULL,
			created_at ` + timestamp + ` NOT NULL,
			expires_at ` + timestamp + ` NOT NULL,
			used_at ` + timestamp + `,
			token_id ` + bigint + ` REFERENCES tokens (id) ON DELETE SET NULL
		)`,
		`CREATE UNIQUE INDEX oauth_codes_hash_idx ON oauth_codes (hash)`,
		`CREATE INDEX oauth_codes_expires_at_idx ON oauth_codes (expires_at)`,
		`CREATE INDEX oauth_codes_user_app_idx ON oauth_codes (user_id, app_id)`,
		`CREATE TABLE oauth_grants (
			user_id ` + bigint + ` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			app_id ` + bigint + ` NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
			scopes TEXT NOT NULL,
			created_at ` + timestamp + ` NOT NULL,
			updated_at ` + timestamp + ` NOT NULL,
			PRIMARY KEY (user_id, app_id)
		)`,
		`CREATE INDEX oauth_grants_app_id_idx ON oauth_grants (app_id, user_id)`,
	}
}

// sqliteTokensTable rebuilds tokens with (withApps) or without the app_id
// column and the nullable user_id that app tokens need.
func sqliteTokensTable(withApps bool) []string {
	userID, ownerCheck, columns := `user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,`, ``, `id, user_id, hash, label, scopes, created_at, expires_at, last_used_at, revoked_at`
	if withApps {
		userID = `user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
			app_id INTEGER REFERENCES apps (id) ON DELETE CASCADE,`
		ownerCheck = `, CHECK (user_id IS NOT NULL OR app_id IS NOT NULL)`
	}
	out := []string{
		`CREATE TABLE tokens_rebuilt (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			` + userID + `
			hash TEXT NOT NULL,
			label TEXT NOT NULL DEFAULT '',
			scopes TEXT NOT NULL,
			created_at TIMESTAMP NOT NULL,
			expires_at TIMESTAMP,
			last_used_at TIMESTAMP,
			revoked_at TIMESTAMP` + ownerCheck + `
		)`,
		`INSERT INTO tokens_rebuilt (` + columns + `) SELECT ` + columns + ` FROM tokens`,
		`DROP TABLE tokens`,
		`ALTER TABLE tokens_rebuilt RENAME TO tokens`,
		`CREATE UNIQUE INDEX tokens_hash_idx ON tokens (hash)`,
		`CREATE INDEX tokens_user_id_idx ON tokens (user_id, id)`,
	}
	if withApps {
		out = append(out, `CREATE INDEX tokens_app_id_idx ON tokens (app_id, user_id) WHERE app_id IS NOT NULL`)
	}
	return out
}
