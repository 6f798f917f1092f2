package database

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"
)

// Params lets a query that runs on every request (a stream page, the
// token lookup) be a prepared statement on PostgreSQL. bun writes values
// into the SQL text, so PostgreSQL parses and plans each query anew, and
// for these queries planning costs two to three times their execution
// (0.2–0.3 ms against 0.1 ms on a page of 20 posts). Built with Params,
// the text holds $1, $2, … instead, pgx prepares it once per connection
// and PostgreSQL reuses the plan. On SQLite, which plans in-process and
// cheaply, the values stay in the text as bun writes them.
//
// A Params serves one query: build it with Arg and In, then run it with
// the query's Conn(p.Conn()).
type Params struct {
	db   sqlRunner // nil: values stay in the text
	idb  bun.IDB   // where the query runs when db is nil
	vals []any
}

// sqlRunner is a *sql.DB or, inside a transaction, a *sql.Tx: pgx takes
// the prepared-statement mode as an argument from either.
type sqlRunner interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// NewParams starts the parameters of one query on idb, a database or a
// transaction.
//
// Only a query whose generic plan (the one made without the values) is
// as good as the plans made with them may be prepared; TestExplainStreamPlans
// checks those of the streams. A range over one user's posts is not: not
// knowing where the range starts, PostgreSQL reads all the user's posts
// and sorts them. Such queries use InlineParams.
func NewParams(idb bun.IDB) *Params {
	p := &Params{idb: idb}
	if idb.Dialect().Name() != dialect.PG {
		return p
	}
	switch db := idb.(type) {
	case *bun.DB:
		p.db = db.DB
	case bun.Tx:
		p.db = db.Tx
	case *bun.Tx:
		p.db = db.Tx
	}
	return p
}

// InlineParams leaves the values in the text on every database, so the
// query is planned with them each time it runs.
func InlineParams(idb bun.IDB) *Params {
	return &Params{idb: idb}
}

// Arg is v as the query's next parameter, for a "?" in a bun query.
func (p *Params) Arg(v any) any {
	if p.db == nil {
		return v
	}
	p.vals = append(p.vals, v)
	return bun.Safe("$" + strconv.Itoa(len(p.vals)))
}

// In is a membership test against ids, for "column ?": "= ANY($n)" with
// one array parameter on PostgreSQL, so lists of any length share one
// statement; "IN (…)" elsewhere.
func (p *Params) In(ids []int64) schema.QueryAppender { return in(p, ids, "BIGINT") }

// InText is In for text values.
func (p *Params) InText(values []string) schema.QueryAppender { return in(p, values, "TEXT") }

// in is In for values of sqlType. An empty list is false for every row,
// as "= ANY('{}')" is on PostgreSQL; "IN (NULL)" would be NULL, and NOT of
// it NULL too rather than true. Its NULL is typed so PostgreSQL can
// compare it.
func in[T int64 | string](p *Params, values []T, sqlType string) schema.QueryAppender {
	if p.db != nil {
		if values == nil {
			values = []T{}
		}
		return bun.Safe("= ANY(" + string(p.Arg(values).(bun.Safe)) + ")")
	}
	if len(values) == 0 {
		return bun.Safe("IN (SELECT CAST(NULL AS " + sqlType + ") WHERE 1 = 0)")
	}
	return bun.SafeQuery("IN (?)", bun.In(values))
}

// Conn runs the query: on PostgreSQL as a cached prepared statement with
// the collected parameters, elsewhere as bun would.
func (p *Params) Conn() bun.IConn {
	if p.db == nil {
		return p.idb
	}
	return preparedConn{db: p.db, vals: p.vals}
}

// preparedConn hands bun's finished SQL text to pgx with the parameters
// bun never saw, asking pgx to prepare and cache the statement.
type preparedConn struct {
	db   sqlRunner
	vals []any
}

func (c preparedConn) args() []any {
	return append([]any{pgx.QueryExecModeCacheStatement}, c.vals...)
}

func (c preparedConn) QueryContext(ctx context.Context, query string, _ ...any) (*sql.Rows, error) {
	c.log(ctx, query)
	return c.db.QueryContext(ctx, query, c.args()...)
}

func (c preparedConn) ExecContext(ctx context.Context, query string, _ ...any) (sql.Result, error) {
	c.log(ctx, query)
	return c.db.ExecContext(ctx, query, c.args()...)
}

func (c preparedConn) QueryRowContext(ctx context.Context, query string, _ ...any) *sql.Row {
	c.log(ctx, query)
	return c.db.QueryRowContext(ctx, query, c.args()...)
}

func (c preparedConn) log(ctx context.Context, query string) {
	if hear, ok := ctx.Value(statementLogKey{}).(func(string, []any)); ok {
		hear(query, c.vals)
	}
}

type statementLogKey struct{}

// WithStatementLog returns a context under which each prepared statement
// run through Params is passed to hear with its parameters: bun's query
// hooks see only the text, and a plan cannot be explained without the
// values.
func WithStatementLog(ctx context.Context, hear func(query string, args []any)) context.Context {
	return context.WithValue(ctx, statementLogKey{}, hear)
}
