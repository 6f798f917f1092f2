package streams_test

import (
	"context"
	"os"
	"testing"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/streams"
)

// TestExplainStreamPlans seeds 100k posts on PostgreSQL and prints the plan
// of a page of the global, personal and tag streams. It runs only when
// PECAN_EXPLAIN=1, as a tool for reading plans, not as a check.
func TestExplainStreamPlans(t *testing.T) {
	if os.Getenv("PECAN_EXPLAIN") == "" || os.Getenv(testenv.DatabaseURLEnv) == "" {
		t.Skip("set PECAN_EXPLAIN=1 and " + testenv.DatabaseURLEnv)
	}
	b := testenv.New(t, "postgres")
	db, err := database.Open(b.DatabaseURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	seed := []string{
		`INSERT INTO users (username, username_key, type, created_at, updated_at)
		 SELECT 'u' || i, 'u' || i, CASE WHEN i % 10 = 0 THEN 'bot' ELSE 'human' END, now(), now() FROM generate_series(1, 1000) i`,
		`INSERT INTO follows (follower_id, followee_id, created_at)
		 SELECT 1, f, now() FROM generate_series(2, 101) f`,
		`INSERT INTO posts (user_id, text, entities, thread_id, created_at)
		 SELECT 1 + (i * 7919) % 1000, 'post ' || i, '{}', i, now() FROM generate_series(1, 100000) i`,
		`INSERT INTO post_tags (post_id, tag) SELECT i, CASE WHEN i % 50 = 0 THEN 'rare' ELSE 'common' END FROM generate_series(1, 100000) i WHERE i % 5 = 0`,
		`ANALYZE`,
	}
	for _, stmt := range seed {
		if _, err := db.Bun.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	store := streams.New(db.Bun)
	page := streams.Page{Count: 20, BeforeID: 90000}
	for name, f := range map[string]streams.Filter{
		"global":   {Kind: streams.Global, ViewerID: 1, IncludeDeleted: true, IncludeReplies: true, IncludeDirected: true},
		"personal": {Kind: streams.Personal, ViewerID: 1, IncludeDeleted: true, IncludeReplies: true, IncludeDirected: true},
		"tag rare": {Kind: streams.Tag, Tag: "rare", ViewerID: 1, IncludeDeleted: true, IncludeReplies: true, IncludeDirected: true},
	} {
		query := store.Query(f, page)
		var plan []string
		if err := db.Bun.NewRaw("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+query).Scan(ctx, &plan); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s:\n%s\n%s", name, query, joinLines(plan))
	}
	// Tag and mention pages run in two steps; these are their statements.
	for _, sql := range []string{
		"SELECT ix.post_id FROM post_tags AS ix WHERE ix.tag = 'rare' AND ix.post_id < 90000 ORDER BY ix.post_id DESC LIMIT 21",
		"SELECT post.id FROM posts AS post LEFT JOIN users AS u ON u.id = post.user_id WHERE post.id IN (89950, 89900, 89850, 89800, 89750, 89700, 89650, 89600, 89550, 89500, 89450, 89400, 89350, 89300, 89250, 89200, 89150, 89100, 89050, 89000, 88950) AND post.user_id NOT IN (SELECT muted_id FROM mutes WHERE user_id = 1) ORDER BY post.id DESC",
	} {
		var plan []string
		if err := db.Bun.NewRaw("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+sql).Scan(ctx, &plan); err != nil {
			t.Fatal(err)
		}
		t.Logf("tag step:\n%s\n%s", sql, joinLines(plan))
	}
}

func joinLines(lines []string) string {
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}
