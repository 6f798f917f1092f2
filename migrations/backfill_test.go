package migrations_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/migrations"
)

// migrateUntil applies every migration named before name, as a server of
// that age would have.
func migrateUntil(t *testing.T, db *bun.DB, name string) {
	t.Helper()
	older := migrate.NewMigrations()
	for _, m := range migrations.All.Sorted() {
		if m.Name < name {
			older.Add(m)
		}
	}
	m := migrate.NewMigrator(db, older, migrate.WithMarkAppliedOnSuccess(true))
	ctx := context.Background()
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx); err != nil {
		t.Fatalf("migrate until %s: %v", name, err)
	}
}

// upgrade opens a fresh database of b at the schema of before the named
// migration, writes rows with stmts (?0 is now), and migrates it to the
// latest schema, as a server of that age upgrading would.
func upgrade(t *testing.T, b testenv.Backend, before string, stmts ...string) *database.DB {
	t.Helper()
	db, err := database.Open(b.DatabaseURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	migrateUntil(t, db.Bun, before)
	now := time.Now().UTC()
	for _, stmt := range stmts {
		if _, err := db.Bun.ExecContext(ctx, stmt, now); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if _, err := db.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// rollBackDrops rolls every migration back and fails if column of table
// survived.
func rollBackDrops(t *testing.T, db *database.DB, table, column string) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.MigrateDown(ctx); err != nil {
		t.Fatalf("down: %v", err)
	}
	if _, err := db.Bun.ExecContext(ctx, "SELECT "+column+" FROM "+table); err == nil {
		t.Fatalf("%s.%s survived the down step", table, column)
	}
}

// TestRepostAuthorsBackfill upgrades a database that already has reposts:
// they learn whose post they repost, and rolling back drops the column.
func TestRepostAuthorsBackfill(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := upgrade(t, b, "20261125000002",
			`INSERT INTO users (id, username, username_key, type, created_at, updated_at) VALUES (1, 'amy', 'amy', 'human', ?0, ?0), (2, 'bob', 'bob', 'human', ?0, ?0)`,
			`INSERT INTO posts (id, user_id, text, entities, thread_id, created_at) VALUES (1, 1, 'hello', '{}', 1, ?0)`,
			`INSERT INTO posts (id, user_id, text, entities, thread_id, repost_of, created_at) VALUES (2, 2, '', '{}', 2, 1, ?0)`,
		)
		var authors []int64 // 0: not a repost
		if err := db.Bun.NewRaw("SELECT COALESCE(repost_of_user_id, 0) FROM posts ORDER BY id").Scan(context.Background(), &authors); err != nil {
			t.Fatal(err)
		}
		if len(authors) != 2 || authors[0] != 0 || authors[1] != 1 {
			t.Fatalf("repost authors after upgrade: %v", authors)
		}
		rollBackDrops(t, db, "posts", "repost_of_user_id")
	})
}

// TestGlobalPostsBackfill upgrades a database that already has posts: a
// human's posts are marked for the global stream, a bot's are not.
func TestGlobalPostsBackfill(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := upgrade(t, b, "20261125000003",
			`INSERT INTO users (id, username, username_key, type, created_at, updated_at) VALUES (1, 'amy', 'amy', 'human', ?0, ?0), (2, 'bot', 'bot', 'bot', ?0, ?0)`,
			`INSERT INTO posts (id, user_id, text, entities, thread_id, created_at) VALUES (1, 1, 'hello', '{}', 1, ?0), (2, 2, 'beep', '{}', 2, ?0)`,
		)
		var global []int64
		if err := db.Bun.NewRaw("SELECT id FROM posts WHERE in_global ORDER BY id").Scan(context.Background(), &global); err != nil {
			t.Fatal(err)
		}
		if len(global) != 1 || global[0] != 1 {
			t.Fatalf("posts in global after upgrade: %v, want [1]", global)
		}
		rollBackDrops(t, db, "posts", "in_global")
	})
}

// TestRemoteFollowersBackfill upgrades a database that already has
// follows: those by remote users are marked, those by local users not,
// and the remote ones are what the inbox lookup finds.
func TestRemoteFollowersBackfill(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := upgrade(t, b, "20261125000008",
			`INSERT INTO users (id, username, username_key, type, created_at, updated_at) VALUES (1, 'amy', 'amy', 'human', ?0, ?0), (2, 'bob', 'bob', 'human', ?0, ?0)`,
			`INSERT INTO users (id, username, username_key, type, domain, inbox_url, shared_inbox_url, created_at, updated_at)
				VALUES (3, 'cat', 'cat@far.example', 'human', 'far.example', 'https://far.example/users/cat/inbox', 'https://far.example/inbox', ?0, ?0)`,
			`INSERT INTO follows (follower_id, followee_id, created_at) VALUES (2, 1, ?0), (3, 1, ?0)`,
		)
		ctx := context.Background()
		var remote []int64
		if err := db.Bun.NewRaw("SELECT follower_id FROM follows WHERE remote_follower ORDER BY follower_id").Scan(ctx, &remote); err != nil {
			t.Fatal(err)
		}
		if len(remote) != 1 || remote[0] != 3 {
			t.Fatalf("remote followers after upgrade: %v, want [3]", remote)
		}
		inboxes, err := db.RemoteFollowerInboxes(ctx, 1)
		if err != nil || len(inboxes) != 1 || inboxes[0] != "https://far.example/inbox" {
			t.Fatalf("inboxes of amy's followers: %v, %v", inboxes, err)
		}
		rollBackDrops(t, db, "follows", "remote_follower")
	})
}
