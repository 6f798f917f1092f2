package migrations

// The durable outbound queue every delivery goes through, and webhooks, its
// first user. The events table of the posts migration had no reader: events
// now become deliveries in the transaction that causes them, so it goes.
func init() {
	All.MustRegister(run(dialectSQL{
		postgres: deliverySchema("BIGSERIAL PRIMARY KEY", "BIGINT", "TIMESTAMPTZ"),
		sqlite:   deliverySchema("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "TIMESTAMP"),
	}), run(dialectSQL{
		postgres: dropDeliverySchema("BIGSERIAL PRIMARY KEY", "BIGINT", "TIMESTAMPTZ"),
		sqlite:   dropDeliverySchema("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "TIMESTAMP"),
	}))
}

func deliverySchema(serial, bigint, timestamp string) []string {
	return []string{
		`DROP TABLE events`,
		`CREATE TABLE webhooks (
			id ` + serial + `,
			user_id ` + bigint + ` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			name TEXT NOT NULL,
			url TEXT NOT NULL,
			events TEXT NOT NULL,
			headers TEXT NOT NULL DEFAULT '{}',
			secret TEXT NOT NULL,
			previous_secret TEXT NOT NULL DEFAULT '',
			previous_secret_until ` + timestamp + `,
			retry_count INTEGER NOT NULL,
			timeout_seconds INTEGER NOT NULL,
			created_at ` + timestamp + ` NOT NULL,
			updated_at ` + timestamp + ` NOT NULL
		)`,
		`CREATE INDEX webhooks_user_idx ON webhooks (user_id, id)`,
		`CREATE TABLE deliveries (
			id ` + serial + `,
			message_id TEXT NOT NULL,
			kind TEXT NOT NULL,
			event TEXT NOT NULL,
			status TEXT NOT NULL,
			target_url TEXT NOT NULL,
			target_host TEXT NOT NULL,
			body TEXT NOT NULL,
			headers TEXT NOT NULL DEFAULT '{}',
			signer TEXT NOT NULL,
			signer_ref ` + bigint + ` NOT NULL,
			post_id ` + bigint + `,
			attempts INTEGER NOT NULL DEFAULT 0,
			max_attempts INTEGER NOT NULL,
			timeout_ms INTEGER NOT NULL,
			next_attempt_at ` + timestamp + ` NOT NULL,
			lease_until_ms ` + bigint + ` NOT NULL DEFAULT 0,
			last_error TEXT NOT NULL DEFAULT '',
			last_status INTEGER NOT NULL DEFAULT 0,
			created_at ` + timestamp + ` NOT NULL,
			updated_at ` + timestamp + ` NOT NULL,
			delivered_at ` + timestamp + `
		)`,
		// Workers claim the oldest due pending row: this index holds only
		// pending rows, so it stays small however many were delivered.
		`CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at, id) WHERE status = 'pending'`,
		`CREATE INDEX deliveries_signer_idx ON deliveries (signer, signer_ref, id)`,
		`CREATE INDEX deliveries_post_idx ON deliveries (post_id) WHERE post_id IS NOT NULL`,
		`CREATE INDEX deliveries_status_idx ON deliveries (status, kind)`,
		`CREATE INDEX deliveries_delivered_idx ON deliveries (delivered_at) WHERE status = 'delivered'`,
	}
}

func dropDeliverySchema(serial, bigint, timestamp string) []string {
	return []string{
		`DROP TABLE deliveries`,
		`DROP TABLE webhooks`,
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
