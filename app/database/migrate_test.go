package database_test

import (
	"context"
	"testing"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/testenv"
)

// TestMigrationsUpDownUp proves every migration can be applied, rolled back
// and applied again on each dialect, leaving no table behind on the way down.
func TestMigrationsUpDownUp(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db, err := database.Open(b.DatabaseURL, 4)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()

		applied, err := db.MigrateUp(ctx)
		if err != nil || len(applied) == 0 {
			t.Fatalf("up: %v %v", applied, err)
		}
		if again, err := db.MigrateUp(ctx); err != nil || len(again) != 0 {
			t.Fatalf("second up applied %v, %v; want nothing", again, err)
		}
		assertTable(t, db, "users", true)

		if _, err := db.MigrateDown(ctx); err != nil {
			t.Fatalf("down: %v", err)
		}
		assertTable(t, db, "users", false)
		statuses, err := db.MigrationStatuses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range statuses {
			if s.Applied {
				t.Fatalf("%s still applied after down", s.Name)
			}
		}
		if _, err := db.MigrateUp(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
		assertTable(t, db, "users", true)
	})
}

func assertTable(t *testing.T, db *database.DB, table string, want bool) {
	t.Helper()
	_, err := db.Bun.NewSelect().Table(table).ColumnExpr("count(*)").Exec(context.Background())
	if got := err == nil; got != want {
		t.Fatalf("table %s exists=%v, want %v (%v)", table, got, want, err)
	}
}

func TestOpenRejectsUnknownURLs(t *testing.T) {
	for _, url := range []string{"mysql://x", "pecan.db", "sqlite://"} {
		if db, err := database.Open(url, 1); err == nil {
			_ = db.Close()
			t.Errorf("Open(%q) succeeded", url)
		}
	}
}
