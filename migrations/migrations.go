// Package migrations holds Pecan's schema changes, one file per change, each
// written for both PostgreSQL and SQLite. File names carry the order
// (YYYYMMDDhhmmss_name.go), as bun's migrator reads them.
package migrations

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"
)

// All is every migration, registered by the files of this package.
var All = migrate.NewMigrations()

// dialectSQL is one migration step: the statements for each dialect.
type dialectSQL struct {
	postgres []string
	sqlite   []string
}

// run turns per-dialect SQL into a migration step that runs in one
// transaction, so a failed step leaves the schema as it was. Each migration
// file calls All.MustRegister itself: bun names a migration after the file
// that registers it.
func run(step dialectSQL) migrate.MigrationFunc {
	return func(ctx context.Context, db *bun.DB) error {
		statements := step.sqlite
		if db.Dialect().Name() == dialect.PG {
			statements = step.postgres
		}
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for _, stmt := range statements {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%s: %w", stmt, err)
				}
			}
			return nil
		})
	}
}

// same is a step whose SQL reads the same on both dialects.
func same(statements ...string) dialectSQL {
	return dialectSQL{postgres: statements, sqlite: statements}
}
