package database

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun/migrate"

	"github.com/pecan-social/pecan/migrations"
)

// MigrationStatus is one migration and whether it has been applied.
type MigrationStatus struct {
	Name      string
	Comment   string
	Applied   bool
	AppliedAt time.Time
}

func (db *DB) migrator() *migrate.Migrator {
	return migrate.NewMigrator(db.Bun, migrations.All, migrate.WithMarkAppliedOnSuccess(true))
}

// MigrateUp applies every pending migration and returns their names. Replicas
// starting together take turns through bun's migration lock.
func (db *DB) MigrateUp(ctx context.Context) ([]string, error) {
	m := db.migrator()
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrate up: init: %w", err)
	}
	unlock, err := db.lock(ctx, m)
	if err != nil {
		return nil, err
	}
	defer unlock()
	group, err := m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate up: %w", err)
	}
	return names(group.Migrations), nil
}

// MigrateDown rolls back the last group of migrations that was applied.
func (db *DB) MigrateDown(ctx context.Context) ([]string, error) {
	m := db.migrator()
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrate down: init: %w", err)
	}
	unlock, err := db.lock(ctx, m)
	if err != nil {
		return nil, err
	}
	defer unlock()
	group, err := m.Rollback(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate down: %w", err)
	}
	return names(group.Migrations), nil
}

// MigrationStatuses lists every known migration, applied or not.
func (db *DB) MigrationStatuses(ctx context.Context) ([]MigrationStatus, error) {
	m := db.migrator()
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migration status: init: %w", err)
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, len(ms))
	for i, mig := range ms {
		out[i] = MigrationStatus{Name: mig.Name, Comment: mig.Comment, Applied: mig.IsApplied(), AppliedAt: mig.MigratedAt}
	}
	return out, nil
}

// lock waits for bun's migration lock, which another replica may hold for
// the few seconds its migrations take.
func (db *DB) lock(ctx context.Context, m *migrate.Migrator) (func(), error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := m.Lock(ctx)
		if err == nil {
			return func() { _ = m.Unlock(context.WithoutCancel(ctx)) }, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("migrate: waiting for lock: %w", ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func names(ms migrate.MigrationSlice) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name + "_" + m.Comment
	}
	return out
}
