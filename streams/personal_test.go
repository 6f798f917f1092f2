package streams

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// TestPersonalPagesReadEitherWay pages the personal and unified streams
// of a busy little network both ways, once reading followed accounts one
// by one and once walking posts by id: a viewer must get the same posts
// whichever the store picks for them.
func TestPersonalPagesReadEitherWay(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := seedNetwork(t, b.DatabaseURL)
		perAuthor, walk, hinted := New(db), New(db), New(db)
		perAuthor.maxAuthors, walk.maxAuthors, hinted.maxAuthors = 1000, 0, 3
		ctx := context.Background()
		filters := []Filter{
			{IncludeDeleted: true, IncludeReplies: true, IncludeDirected: true},
			{IncludeMuted: true, IncludeReplies: true},
			{IncludeDirected: true},
		}
		for _, kind := range []Kind{Personal, Unified} {
			for i, f := range filters {
				f.Kind, f.ViewerID = kind, 1
				for _, count := range []int{20, -20} {
					a, b := pageAll(ctx, t, perAuthor, f, count), pageAll(ctx, t, walk, f, count)
					if len(a) < 60 || !slices.Equal(a, b) {
						t.Errorf("kind %d filter %d count %d:\n per author %v\n walk       %v", kind, i, count, a, b)
					}
					// A follow count, right or stale, only picks the way.
					for _, follows := range []int64{1, 5, 99} {
						f.ViewerFollows = follows
						if c := pageAll(ctx, t, hinted, f, count); !slices.Equal(a, c) {
							t.Errorf("kind %d filter %d count %d, told %d follows:\n per author %v\n hinted     %v", kind, i, count, follows, a, c)
						}
					}
					f.ViewerFollows = 0
				}
			}
		}
	})
}

// pageAll reads a stream to its end and returns its post ids, newest first.
func pageAll(ctx context.Context, t *testing.T, s *Store, f Filter, count int) []int64 {
	t.Helper()
	var ids []int64
	page := Page{Count: count}
	for range 100 {
		res, err := s.Posts(ctx, f, page)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, p := range res.Posts {
			got = append(got, p.ID)
		}
		if count > 0 {
			ids = append(ids, got...)
		} else {
			ids = append(got, ids...)
		}
		if !res.More {
			return ids
		}
		if count > 0 {
			page.BeforeID = got[len(got)-1]
		} else {
			page.SinceID = got[0]
		}
	}
	t.Fatal("stream did not end")
	return nil
}

// seedNetwork writes twelve users, of whom user 1 follows five, mutes one
// and blocks one (and is blocked by one), and 300 posts: replies,
// reposts, deleted posts and posts that mention or are addressed to
// someone.
func seedNetwork(t *testing.T, url string) *bun.DB {
	db, err := database.Open(url, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	if _, err := db.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Bun.ExecContext(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	for u := 1; u <= 12; u++ {
		exec("INSERT INTO users (id, username, username_key, type, created_at, updated_at) VALUES (?, ?, ?, 'human', ?, ?)",
			u, fmt.Sprint("u", u), fmt.Sprint("u", u), now, now)
	}
	for _, followee := range []int{2, 3, 4, 5, 6} {
		exec("INSERT INTO follows (follower_id, followee_id, created_at) VALUES (1, ?, ?)", followee, now)
	}
	exec("INSERT INTO mutes (user_id, muted_id, created_at) VALUES (1, 3, ?)", now)
	exec("INSERT INTO blocks (user_id, blocked_id, created_at) VALUES (1, 7, ?), (8, 1, ?)", now, now)
	rng := rand.New(rand.NewPCG(1, 2))
	var posts []models.Post
	var mentions []models.PostMention
	for id := int64(1); id <= 300; id++ {
		p := models.Post{ID: id, UserID: 1 + rng.Int64N(12), Text: "p", ThreadID: id, CreatedAt: now}
		switch r := rng.IntN(10); {
		case r == 0 && id > 1:
			p.ReplyTo = ptr(1 + rng.Int64N(id-1))
		case r == 1 && id > 1:
			p.RepostOf = ptr(1 + rng.Int64N(id-1))
			p.RepostOfUserID = &posts[*p.RepostOf-1].UserID
		case r == 2:
			p.DeletedAt = &now
		}
		posts = append(posts, p)
		if mentioned := 1 + rng.Int64N(12); rng.IntN(6) == 0 && mentioned != p.UserID {
			mentions = append(mentions, models.PostMention{PostID: id, UserID: mentioned, Leading: rng.IntN(2) == 0})
		}
	}
	if _, err := db.Bun.NewInsert().Model(&posts).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Bun.NewInsert().Model(&mentions).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return db.Bun
}

func ptr(n int64) *int64 { return &n }

// TestSQLiteWalksPostsByID checks the plan SQLite makes for the walk of a
// personal page: posts read in id order, stopping at a page, not every
// post of every followed account gathered through posts_user_idx and
// sorted (which made a page of someone following 100 busy accounts take
// 136 ms instead of 1).
func TestSQLiteWalksPostsByID(t *testing.T) {
	db := seedNetwork(t, testenv.New(t, "sqlite").DatabaseURL)
	walk := New(db)
	walk.maxAuthors = 0
	var queries []string
	db.AddQueryHook(queryLog{&queries})
	for _, kind := range []Kind{Personal, Unified} {
		queries = nil
		if _, err := walk.Posts(context.Background(), Filter{Kind: kind, ViewerID: 1}, Page{Count: 20}); err != nil {
			t.Fatal(err)
		}
		var plan []string
		if err := db.NewRaw("EXPLAIN QUERY PLAN "+queries[len(queries)-1]).Scan(context.Background(), new([]int), new([]int), new([]int), &plan); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "SCAN post") || strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("kind %d: the walk's plan is not a scan of posts in id order:\n%s", kind, text)
		}
	}
}

type queryLog struct{ queries *[]string }

func (l queryLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (l queryLog) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	*l.queries = append(*l.queries, e.Query)
}
