package streams_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/migrate"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/migrations"
	"github.com/pecan-social/pecan/streams"
)

// The explained database: 10k users of whom 1% are human, 100k posts
// spread evenly over the first 1000 (most accounts are quiet, and users is
// too big a table to read whole for one page), every fifth
// post tagged (one in ten of those "rare"). User 1 follows many accounts,
// user 2 follows two.
const (
	explainUsers     = 10_000
	explainPosters   = 1000
	explainPosts     = 100_000
	explainThread    = 50 // the root of a thread of every 50th post
	denseFollowings  = 200
	sparseFollowings = 2
	// maxRowsPerPageRow bounds what a page may read: the rows of every
	// table scan in its plans, over the rows it returns.
	maxRowsPerPageRow = 6
)

// TestExplainStreamPlans runs pages of the global, personal (dense and
// sparse following) and tag streams on PostgreSQL with 100k posts,
// records the statements the store sends, explains them with EXPLAIN
// (ANALYZE, BUFFERS) and fails if their table scans read more than a few
// rows per row of the page: a page must read O(count) rows, not the
// stream's history. It runs only when PECAN_EXPLAIN=1; -v prints the plans.
func TestExplainStreamPlans(t *testing.T) {
	if os.Getenv("PECAN_EXPLAIN") == "" || os.Getenv(testenv.DatabaseURLEnv) == "" {
		t.Skip("set PECAN_EXPLAIN=1 and " + testenv.DatabaseURLEnv)
	}
	db := seedExplainDB(t)
	rec := &recorder{}
	db.AddQueryHook(rec)
	store := streams.New(db)
	wide := streams.Filter{IncludeDeleted: true, IncludeReplies: true, IncludeDirected: true}
	with := func(kind streams.Kind, viewer int64, tag string) streams.Filter {
		f := wide
		f.Kind, f.ViewerID, f.Tag = kind, viewer, tag
		return f
	}
	thread := with(streams.Thread, 1, "")
	thread.ThreadID = explainThread
	// A personal page also reads the viewer's follows (to choose how to
	// read, and on the walk to know whom they follow): bounded by whom they
	// follow, not by history, it is checked apart, at most twice over.
	cases := []struct {
		name    string
		f       streams.Filter
		follows int
	}{
		{"global", with(streams.Global, 1, ""), 0},
		{"personal dense", with(streams.Personal, 1, ""), denseFollowings},
		{"personal sparse", with(streams.Personal, 2, ""), sparseFollowings},
		{"tag rare", with(streams.Tag, 1, "rare"), 0},
		{"local", with(streams.Local, 0, ""), 0},
		{"thread", thread, 0},
	}
	for _, tc := range cases {
		for _, page := range []streams.Page{{Count: 20, BeforeID: 90_000}, {Count: -20, SinceID: 10_000}} {
			name := fmt.Sprintf("%s count=%d", tc.name, page.Count)
			queries, res := rec.run(t, func(ctx context.Context) (streams.Result, error) { return store.Posts(ctx, tc.f, page) })
			if len(res.Posts) != abs(page.Count) {
				t.Errorf("%s: %d posts, want a full page of %d", name, len(res.Posts), abs(page.Count))
			}
			read, follows := 0, 0
			for _, q := range queries {
				text, byTable := explain(t, db, q.text, q.args)
				for table, n := range byTable {
					if table == "follows" {
						follows += n
					} else {
						read += n
					}
				}
				t.Logf("%s:\n%s %v\n%s", name, q.text, q.args, text)
			}
			limit := maxRowsPerPageRow * (abs(page.Count) + 1)
			t.Logf("%s: %d statements read %d rows, and %d of follows (limits %d and %d)", name, len(queries), read, follows, limit, 2*tc.follows)
			if read > limit || follows > 2*tc.follows {
				t.Errorf("%s: table scans read %d rows for a page of %d and %d of follows, want at most %d and %d",
					name, read, abs(page.Count), follows, limit, 2*tc.follows)
			}
		}
	}
}

// seedExplainDB fills a fresh schema through SQL, in the shape of the
// migrations before streams gained their own columns, then migrates to
// the latest schema so those columns are filled by the backfills as on a
// real upgrade.
func seedExplainDB(t *testing.T) *bun.DB {
	b := testenv.New(t, "postgres")
	db, err := database.Open(b.DatabaseURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	older := migrate.NewMigrations()
	for _, m := range migrations.All.Sorted() {
		if m.Name < "20261125000002" {
			older.Add(m)
		}
	}
	m := migrate.NewMigrator(db.Bun, older, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seed := []string{
		fmt.Sprintf(`INSERT INTO users (username, username_key, type, created_at, updated_at)
		 SELECT 'u' || i, 'u' || i, CASE WHEN i %% 100 = 0 THEN 'human' ELSE 'bot' END, now(), now() FROM generate_series(1, %d) i`, explainUsers),
		// Everyone else who posts follows twenty accounts.
		fmt.Sprintf(`INSERT INTO follows (follower_id, followee_id, created_at)
		 SELECT u, 1 + (u + 37 * k) %% %[1]d, now() FROM generate_series(3, %[1]d) u, generate_series(1, 20) k`, explainPosters),
		fmt.Sprintf(`INSERT INTO follows (follower_id, followee_id, created_at) SELECT 1, f, now() FROM generate_series(3, %d) f`, 2+denseFollowings),
		fmt.Sprintf(`INSERT INTO follows (follower_id, followee_id, created_at) SELECT 2, f, now() FROM generate_series(3, %d) f`, 2+sparseFollowings),
		fmt.Sprintf(`INSERT INTO posts (user_id, text, entities, thread_id, created_at)
		 SELECT 1 + (i * 7919) %% %d, 'post ' || i, '{}', i, now() FROM generate_series(1, %d) i`, explainPosters, explainPosts),
		fmt.Sprintf(`UPDATE posts SET thread_id = %d WHERE id %% %[1]d = 0`, explainThread),
		fmt.Sprintf(`INSERT INTO post_tags (post_id, tag)
		 SELECT i, CASE WHEN i %% 50 = 0 THEN 'rare' ELSE 'common' END FROM generate_series(1, %d) i WHERE i %% 5 = 0`, explainPosts),
	}
	for _, stmt := range seed {
		if _, err := db.Bun.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if _, err := db.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	// Most posts came from other servers: the home page's local stream
	// must not walk past them.
	if _, err := db.Bun.ExecContext(ctx, `UPDATE posts SET ap_id = 'https://remote.example/notes/' || id WHERE id % 7 <> 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Bun.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	return db.Bun
}

// recorder is a bun query hook that keeps the statements run with a
// context it marked, so the test explains what the store really sends;
// prepared ones with their parameters, from database.WithStatementLog.
type recorder struct {
	mu      sync.Mutex
	queries []statement
	args    map[string][]any
}

type statement struct {
	text string
	args []any // nil: the values are in the text
}

type recording struct{}

func (r *recorder) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (r *recorder) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	if ctx.Value(recording{}) == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queries = append(r.queries, statement{text: e.Query, args: r.args[e.Query]})
}

// run calls fn with a recording context and returns what it ran.
func (r *recorder) run(t *testing.T, fn func(context.Context) (streams.Result, error)) ([]statement, streams.Result) {
	t.Helper()
	r.mu.Lock()
	r.queries, r.args = nil, map[string][]any{}
	r.mu.Unlock()
	ctx := database.WithStatementLog(context.WithValue(context.Background(), recording{}, true), func(query string, args []any) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.args[query] = args
	})
	res, err := fn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.queries, res
}

// explain runs one statement under EXPLAIN ANALYZE and returns its plan as
// text and the rows its table scans read, by table. A prepared statement
// is explained with the generic plan PostgreSQL moves to after a few
// runs, which cannot see its parameters' values: it must read O(count)
// rows too.
func explain(t *testing.T, db *bun.DB, query string, args []any) (string, map[string]int) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	run := query
	if args != nil {
		for _, setup := range []string{"SET plan_cache_mode = force_generic_plan", "PREPARE explained AS " + query} {
			if _, err := conn.ExecContext(ctx, setup); err != nil {
				t.Fatalf("%s: %v", setup, err)
			}
		}
		defer conn.ExecContext(ctx, "DEALLOCATE explained; RESET plan_cache_mode") //nolint:errcheck
		run = conn.NewRaw("EXECUTE explained (?)", bun.In(literals(args))).String()
	}
	var lines []string
	if err := conn.NewRaw("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+run).Scan(ctx, &lines); err != nil {
		t.Fatalf("explain %s: %v", run, err)
	}
	var doc string
	if err := conn.NewRaw("EXPLAIN (ANALYZE, FORMAT JSON) "+run).Scan(ctx, &doc); err != nil {
		t.Fatalf("explain %s: %v", run, err)
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal([]byte(doc), &plans); err != nil || len(plans) != 1 {
		t.Fatalf("reading plan of %s: %v", query, err)
	}
	byTable := map[string]int{}
	plans[0].Plan.rowsRead(byTable)
	total, parts := 0, []string{}
	for table, n := range byTable {
		total += n
		parts = append(parts, fmt.Sprintf("%s %d", table, n))
	}
	sort.Strings(parts)
	text := fmt.Sprintf("%s\n-- rows read by table scans: %d (%s)\n", strings.Join(lines, "\n"), total, strings.Join(parts, ", "))
	return text, byTable
}

// literals makes parameters writable as SQL: lists as arrays.
func literals(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
		if ids, ok := a.([]int64); ok {
			out[i] = pgdialect.Array(ids)
		}
	}
	return out
}

// planNode is the part of a JSON plan node that says how many rows it
// read. Actual Rows and Rows Removed by Filter are averages per loop.
type planNode struct {
	NodeType       string     `json:"Node Type"`
	Relation       string     `json:"Relation Name"`
	Loops          float64    `json:"Actual Loops"`
	Rows           float64    `json:"Actual Rows"`
	RemovedFilter  float64    `json:"Rows Removed by Filter"`
	RemovedRecheck float64    `json:"Rows Removed by Index Recheck"`
	Plans          []planNode `json:"Plans"`
}

// rowsRead adds up, per table, the rows that the node's table scans
// fetched, counting those a filter then threw away. Bitmap index scans
// are left out: their heap scan counts the same rows.
func (n planNode) rowsRead(byTable map[string]int) {
	switch n.NodeType {
	case "Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan":
		byTable[n.Relation] += int((n.Rows + n.RemovedFilter + n.RemovedRecheck) * n.Loops)
	}
	for _, child := range n.Plans {
		child.rowsRead(byTable)
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
