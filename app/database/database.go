// Package database opens Pecan's SQL database (PostgreSQL or SQLite, chosen
// by the URL), runs its migrations, and stores and loads rows. It holds no
// rules: those live in the processors that call it.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// Errors the processors turn into API answers.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("duplicate")
)

// DB is the store. Its query methods come from Queries, which also runs
// inside a transaction (see InTx).
type DB struct {
	Queries
	Bun *bun.DB
}

// Queries are the store's reads and writes, on the pool or on a
// transaction. Most methods are one statement.
type Queries struct {
	idb   bun.IDB
	hooks *hooks
	tx    *txState // nil outside a transaction
}

// hooks are what the store tells others once a write is committed.
type hooks struct {
	queued atomic.Pointer[func()]
}

// txState is what one transaction wrote that others hear of after it
// commits.
type txState struct {
	queued bool
}

// OnDeliveriesQueued sets what runs each time new deliveries are
// committed: the delivery workers wake then, rather than at their next
// poll, and before the commit there would be nothing for them to claim.
func (db *DB) OnDeliveriesQueued(fn func()) {
	db.hooks.queued.Store(&fn)
}

// deliveriesQueued runs the hook now, or when q's transaction commits.
func (q Queries) deliveriesQueued() {
	if q.tx != nil {
		q.tx.queued = true
		return
	}
	if q.hooks == nil {
		return // a Queries not made by Open: no one to tell
	}
	if fn := q.hooks.queued.Load(); fn != nil {
		(*fn)()
	}
}

// InTx runs fn in one transaction: everything fn writes lands, or none of it.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context, q Queries) error) error {
	state := &txState{}
	err := db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, Queries{idb: tx, hooks: db.hooks, tx: state})
	})
	if err == nil && state.queued {
		db.Queries.deliveriesQueued()
	}
	return err
}

// Open connects to the database named by url: "postgres://…" (or
// "postgresql://…") or "sqlite://path".
func Open(url string, maxOpenConns int) (*DB, error) {
	var (
		db  *bun.DB
		err error
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db, err = openPostgres(url, maxOpenConns)
	case strings.HasPrefix(url, "sqlite://"):
		db, err = openSQLite(strings.TrimPrefix(url, "sqlite://"))
	default:
		return nil, fmt.Errorf("open database: unsupported URL scheme in %q (want postgres:// or sqlite://)", url)
	}
	if err != nil {
		return nil, err
	}
	return &DB{Bun: db, Queries: Queries{idb: db, hooks: &hooks{}}}, nil
}

func openPostgres(url string, maxOpenConns int) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// bun writes each query with its values in the text, so no two
	// statements are alike and pgx's statement cache only costs a
	// Parse/Describe round trip per query: the simple protocol sends each
	// one in a single round trip.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	// The statements prepared through Params are those whose generic plan
	// is as good as a custom one (TestExplainStreamPlans checks the
	// streams'), so PostgreSQL need never plan them again. Left to choose,
	// it kept planning some at every run: a generic plan's estimate for
	// "= ANY($1)" assumes a long list.
	cfg.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	sqldb := stdlib.OpenDB(*cfg)
	sqldb.SetMaxOpenConns(maxOpenConns)
	sqldb.SetMaxIdleConns(maxOpenConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	return bun.NewDB(sqldb, pgdialect.New()), nil
}

// openSQLite sets the pragmas that make SQLite behave under concurrent
// requests: WAL so reads do not wait for writes, a busy timeout so writers
// queue instead of failing, and immediate transactions so two writers never
// deadlock upgrading read locks.
func openSQLite(path string) (*bun.DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite: empty path in database URL")
	}
	dsn := "file:" + path +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_txlock=immediate"
	sqldb, err := sql.Open(sqliteshim.ShimName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqldb.SetMaxOpenConns(8)
	return bun.NewDB(sqldb, sqlitedialect.New()), nil
}

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.Bun.PingContext(ctx)
}

// Close closes the connection pool.
func (db *DB) Close() error {
	return db.Bun.Close()
}

// IsPostgres reports whether the database is PostgreSQL.
func (db *DB) IsPostgres() bool {
	return db.Bun.Dialect().Name() == dialect.PG
}

// isUniqueViolation recognises a unique-constraint failure on either driver.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// notFound maps sql.ErrNoRows to ErrNotFound and wraps anything else.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}
