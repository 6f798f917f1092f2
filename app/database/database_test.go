package database

import (
	"context"
	"testing"

	"github.com/pecan-social/pecan/app/testenv"
)

// TestPreparedStatementsRunTheirGenericPlan: the plans TestExplainStreamPlans
// checks are generic ones; PostgreSQL connections must run those, rather
// than planning prepared statements again whenever it guesses better.
func TestPreparedStatementsRunTheirGenericPlan(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := migratedDB(t, b)
		if !db.IsPostgres() {
			t.Skip("SQLite keeps no plans between statements")
		}
		var mode string
		if err := db.Bun.NewRaw("SHOW plan_cache_mode").Scan(context.Background(), &mode); err != nil {
			t.Fatal(err)
		}
		if mode != "force_generic_plan" {
			t.Fatalf("plan_cache_mode is %q on the pool's connections", mode)
		}
	})
}
