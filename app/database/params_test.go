package database_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/testenv"
)

// TestParamsAnswerAsInline runs the same queries prepared (on PostgreSQL)
// and with the values in the text, many times over from many goroutines
// so that pooled connections reuse their cached statements, and wants the
// same rows every time: lists empty, of one and of many ids, a value used
// twice, and a text value with a quote in it.
func TestParamsAnswerAsInline(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db := scratchDB(t, b, "CREATE TABLE notes (id BIGINT PRIMARY KEY, owner BIGINT NOT NULL, body TEXT NOT NULL)")
		for i := 1; i <= 30; i++ {
			if _, err := db.Bun.NewRaw("INSERT INTO notes VALUES (?, ?, ?)", i, i%3, fmt.Sprintf("it's note %d", i)).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		cases := [][]int64{nil, {7}, {1, 2, 3, 29, 30, 99}}
		var wg sync.WaitGroup
		for worker := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := range 20 {
					ids := cases[(worker+round)%len(cases)]
					want, err1 := notes(database.InlineParams(db.Bun), db.Bun, ids)
					got, err2 := notes(database.NewParams(db.Bun), db.Bun, ids)
					if err1 != nil || err2 != nil || !slices.Equal(got, want) {
						t.Errorf("ids %v: prepared %v (%v), inline %v (%v)", ids, got, err2, want, err1)
						return
					}
				}
			}()
		}
		wg.Wait()
		if got, err := notes(database.NewParams(db.Bun), db.Bun, []int64{1, 2, 3, 4, 12, 13}); err != nil || !slices.Equal(got, []int64{3, 12, 13}) {
			t.Errorf("notes among 1-4, 12, 13: %v (%v), want [3 12 13]", got, err)
		}
	})
}

// notes is the ids, among ids, of the notes owned by 0, or past 10 and
// owned by someone else, or with the body of note 3; the owner is one
// parameter used twice.
func notes(p *database.Params, db *bun.DB, ids []int64) ([]int64, error) {
	owner, body := p.Arg(int64(0)), p.Arg("it's note 3")
	var out []int64
	err := db.NewSelect().Table("notes").Column("id").
		Where("id ?", p.In(ids)).
		Where("(owner = ? OR body = ? OR (owner <> ? AND id > 10))", owner, body, owner).
		Order("id").Conn(p.Conn()).Scan(context.Background(), &out)
	return out, err
}

// TestParamsInATransaction: a prepared query run inside a transaction
// runs on the transaction's connection, so it sees the transaction's own
// writes, and a text list matches as an id list does.
func TestParamsInATransaction(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db := scratchDB(t, b, "CREATE TABLE tags (id BIGINT PRIMARY KEY, name TEXT NOT NULL)")
		for round := range 5 { // the same statement, prepared once, used again
			err := db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.NewRaw("INSERT INTO tags VALUES (?, ?)", round, fmt.Sprintf("tag %d", round)).Exec(ctx); err != nil {
					return err
				}
				var got []int64
				p := database.NewParams(tx)
				err := tx.NewSelect().Table("tags").Column("id").Where("name ?", p.InText([]string{fmt.Sprintf("tag %d", round), "none"})).
					Conn(p.Conn()).Scan(ctx, &got)
				if err != nil || !slices.Equal(got, []int64{int64(round)}) {
					return fmt.Errorf("round %d: found %v (%v) inside the transaction that wrote it", round, got, err)
				}
				return errRollBack
			})
			if !errors.Is(err, errRollBack) {
				t.Fatal(err)
			}
		}
		var left int
		if err := db.Bun.NewRaw("SELECT COUNT(*) FROM tags").Scan(ctx, &left); err != nil || left != 0 {
			t.Fatalf("%d rows outlived their rolled-back transactions (%v)", left, err)
		}
	})
}

var errRollBack = errors.New("roll back")

// TestEmptyListsMatchNothing: an empty list matches no row, and its
// negation every row, prepared or not, on both backends.
func TestEmptyListsMatchNothing(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db := scratchDB(t, b, "CREATE TABLE names (id BIGINT PRIMARY KEY, name TEXT NOT NULL)")
		if _, err := db.Bun.ExecContext(ctx, "INSERT INTO names VALUES (1, 'a'), (2, 'b')"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []func() *database.Params{
			func() *database.Params { return database.NewParams(db.Bun) },
			func() *database.Params { return database.InlineParams(db.Bun) },
		} {
			count := func(where string, list func(*database.Params) any) int {
				params := p()
				n, err := db.Bun.NewSelect().Table("names").Where(where, list(params)).Conn(params.Conn()).Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return int(n)
			}
			ids := func(p *database.Params) any { return p.In(nil) }
			texts := func(p *database.Params) any { return p.InText(nil) }
			if a, b, c, d := count("id ?", ids), count("NOT (id ?)", ids), count("name ?", texts), count("NOT (name ?)", texts); a != 0 || b != 2 || c != 0 || d != 2 {
				t.Fatalf("empty lists matched %d and %d of 2 rows, negated %d and %d, want 0 and 2", a, c, b, d)
			}
		}
	})
}

// scratchDB opens b with one table made by create, closed when the test ends.
func scratchDB(t *testing.T, b testenv.Backend, create string) *database.DB {
	t.Helper()
	db, err := database.Open(b.DatabaseURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Bun.ExecContext(context.Background(), create); err != nil {
		t.Fatal(err)
	}
	return db
}
