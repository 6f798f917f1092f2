package database

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// TestCreatePostMatchesStatements writes the same posts through CreatePost
// and through bun's statements, and wants the same rows: the post with
// every column it sets, its place in the global stream, its mention and
// tag rows, and its author's count.
func TestCreatePostMatchesStatements(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db := migratedDB(t, b)
		human, bot, mentioned := newUser(t, db, models.UserHuman), newUser(t, db, models.UserBot), newUser(t, db, models.UserHuman)
		root := &models.Post{UserID: human.ID, Text: "root", CreatedAt: time.Now(), Entities: models.Entities{}}
		if _, err := db.CreatePost(ctx, root, nil, nil); err != nil {
			t.Fatal(err)
		}
		if root.ThreadID != root.ID {
			t.Fatalf("a new thread's root is in thread %d, want its own id %d", root.ThreadID, root.ID)
		}
		cases := map[string]struct {
			author   *models.User
			reply    bool
			remote   bool
			mentions []models.PostMention
			tags     []string
		}{
			"bare":                   {author: human},
			"bot":                    {author: bot, tags: []string{"bots"}},
			"mentions and tags":      {author: human, mentions: []models.PostMention{{UserID: mentioned.ID, Leading: true}, {UserID: bot.ID}}, tags: []string{"go", "pecan"}},
			"reply with one mention": {author: human, reply: true, mentions: []models.PostMention{{UserID: mentioned.ID}}},
			"remote":                 {author: bot, remote: true, reply: true, tags: []string{"fediverse"}},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				newPost := func(text string) *models.Post {
					p := &models.Post{UserID: c.author.ID, Text: text, IsNSFW: c.reply, SourceName: "tests",
						CreatedAt: time.Date(2026, 11, 25, 21, 0, 0, 123456000, time.UTC),
						Entities:  models.Entities{Tags: []models.Tag{{Pos: 0, Len: 3, Text: "tag"}}},
						Raw:       models.Raw{"io.pnut.core.oembed": {json.RawMessage(`{"type":"photo"}`)}}}
					if c.reply {
						p.ReplyTo, p.ThreadID = &root.ID, root.ThreadID
					}
					if c.remote {
						p.APID, p.APURL = new("https://remote.example/notes/"+text), "https://remote.example/@bot/1"
					}
					return p
				}
				got, want := newPost("one statement "+name), newPost("by statements "+name)
				before := storedPostCount(t, db, c.author.ID)
				gotCount, err := db.CreatePost(ctx, got, c.mentions, c.tags)
				if err != nil {
					t.Fatal(err)
				}
				wantCount, err := db.createPostByStatements(ctx, want, c.mentions, c.tags)
				if err != nil {
					t.Fatal(err)
				}
				if gotCount != before+1 || wantCount != before+2 || storedPostCount(t, db, c.author.ID) != wantCount {
					t.Errorf("from %d posts, counts %d then %d, stored %d; want one more each time", before, gotCount, wantCount, storedPostCount(t, db, c.author.ID))
				}
				if got.ThreadID != want.ThreadID && !(got.ThreadID == got.ID && want.ThreadID == want.ID) {
					t.Errorf("threads %d (post %d) and %d (post %d)", got.ThreadID, got.ID, want.ThreadID, want.ID)
				}
				if g, w := storedPost(t, db, got.ID), storedPost(t, db, want.ID); g != w {
					t.Errorf("stored by CreatePost:\n%s\nby statements:\n%s", g, w)
				}
			})
		}
	})
}

// TestCreatePostTwiceFromAfar: a remote post stored already is a
// duplicate, and nothing of the second attempt is written.
func TestCreatePostTwiceFromAfar(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db := migratedDB(t, b)
		author := newUser(t, db, models.UserHuman)
		note := func() *models.Post {
			return &models.Post{UserID: author.ID, Text: "hello", CreatedAt: time.Now(), APID: new("https://remote.example/notes/1")}
		}
		if _, err := db.CreatePost(ctx, note(), nil, nil); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, func(ctx context.Context, q Queries) error {
			_, err := q.CreatePost(ctx, note(), nil, []string{"again"})
			return err
		})
		if !errors.Is(err, ErrDuplicate) {
			t.Fatalf("storing a Note twice: %v, want ErrDuplicate", err)
		}
		if n := storedPostCount(t, db, author.ID); n != 1 {
			t.Fatalf("the author counts %d posts, want 1", n)
		}
	})
}

// TestCreatePostWithoutAuthor: a post by no user writes nothing.
func TestCreatePostWithoutAuthor(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db := migratedDB(t, b)
		err := db.InTx(ctx, func(ctx context.Context, q Queries) error {
			_, err := q.CreatePost(ctx, &models.Post{UserID: 999, Text: "nobody", CreatedAt: time.Now()}, nil, []string{"tag"})
			return err
		})
		if err == nil {
			t.Fatal("a post by a user who does not exist was created")
		}
		// Alone, it is not written either, and the caller's transaction
		// then says why.
		if _, written, err := db.CreateUnheardPost(ctx, &models.Post{UserID: 999, Text: "nobody", CreatedAt: time.Now()}, nil, []string{"tag"}); written || err != nil {
			t.Fatalf("alone, a post by no one: written %v, %v", written, err)
		}
		if n, err := db.Bun.NewSelect().Model((*models.Post)(nil)).Count(ctx); err != nil || n != 0 {
			t.Fatalf("%d posts stored (%v), want none", n, err)
		}
	})
}

// authorsWithListeners makes three users: one with a webhook, one with
// a follower elsewhere and one here, and one with only a follower here,
// whom no one outside hears of.
func authorsWithListeners(t *testing.T, db *DB) (hooked, followed, followedHere *models.User) {
	t.Helper()
	hooked, followed, followedHere = newUser(t, db, models.UserHuman), newUser(t, db, models.UserHuman), newUser(t, db, models.UserHuman)
	followLocally(t, db, followed)
	followLocally(t, db, followedHere)
	remote := newUser(t, db, models.UserHuman)
	now := time.Now()
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO webhooks (user_id, name, url, events, secret, retry_count, timeout_seconds, created_at, updated_at) VALUES (?, 'h', 'https://hooks.example', '[]', 's', 1, 1, ?, ?)",
			[]any{hooked.ID, now, now}},
		{"INSERT INTO follows (follower_id, followee_id, created_at, remote_follower) VALUES (?, ?, ?, ?)", []any{remote.ID, followed.ID, now, true}},
	} {
		if _, err := db.Bun.ExecContext(context.Background(), stmt.sql, stmt.args...); err != nil {
			t.Fatal(err)
		}
	}
	return hooked, followed, followedHere
}

// followLocally gives followee a follower on this server, whom no one
// outside hears of.
func followLocally(t *testing.T, db *DB, followee *models.User) {
	t.Helper()
	follower := newUser(t, db, models.UserHuman)
	if _, err := db.Bun.ExecContext(context.Background(), "INSERT INTO follows (follower_id, followee_id, created_at) VALUES (?, ?, ?)", follower.ID, followee.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func migratedDB(t testing.TB, b testenv.Backend) *DB {
	t.Helper()
	db, err := Open(b.DatabaseURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func newUser(t *testing.T, db *DB, kind models.UserType) *models.User {
	t.Helper()
	n := time.Now().UnixNano()
	u := &models.User{Username: fmt.Sprint("u", n), UsernameKey: fmt.Sprint("u", n), Type: kind, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if _, err := db.Bun.NewInsert().Model(u).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return u
}

func storedPostCount(t *testing.T, db *DB, userID int64) int64 {
	t.Helper()
	var n int64
	if err := db.Bun.NewSelect().Table("users").Column("post_count").Where("id = ?", userID).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// storedPost is a post's row, global stream flag and index rows as JSON,
// with its ids and texts left out: the rest must not depend on the path
// that wrote it.
func storedPost(t *testing.T, db *DB, id int64) string {
	t.Helper()
	ctx := context.Background()
	post := new(models.Post)
	if err := db.Bun.NewSelect().Model(post).Where("id = ?", id).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	var inGlobal bool
	if err := db.Bun.NewSelect().Table("posts").Column("in_global").Where("id = ?", id).Scan(ctx, &inGlobal); err != nil {
		t.Fatal(err)
	}
	var mentions []models.PostMention
	var tags []models.PostTag
	if err := db.Bun.NewSelect().Model(&mentions).Where("post_id = ?", id).Order("user_id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Bun.NewSelect().Model(&tags).Where("post_id = ?", id).Order("tag").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range mentions {
		mentions[i].PostID = 0
	}
	for i := range tags {
		tags[i].PostID = 0
	}
	if post.ThreadID == post.ID {
		post.ThreadID = -1 // its own thread
	}
	if post.APID != nil { // made of the text, which differs
		post.APID = new(strings.TrimSuffix(*post.APID, post.Text))
	}
	post.ID, post.Text, post.CreatedAt = 0, "", post.CreatedAt.UTC()
	out, err := json.Marshal(map[string]any{"post": post, "in_global": inGlobal, "mentions": mentions, "tags": tags})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestThreadRootIDsAreNeverReused: a new thread's root takes its id ahead
// of the insert; after the newest post's row is removed (as a repost's
// is), the next post still gets a new id, and names it as its thread.
func TestThreadRootIDsAreNeverReused(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db := migratedDB(t, b)
		author := newUser(t, db, models.UserHuman)
		var ids []int64
		for i := range 3 {
			p := &models.Post{UserID: author.ID, Text: fmt.Sprint("post ", i), CreatedAt: time.Now()}
			if _, err := db.CreatePost(ctx, p, nil, nil); err != nil {
				t.Fatal(err)
			}
			if p.ThreadID != p.ID {
				t.Fatalf("post %d is in thread %d, want its own", p.ID, p.ThreadID)
			}
			if len(ids) > 0 && p.ID <= ids[len(ids)-1] {
				t.Fatalf("post ids %v then %d: an id was reused", ids, p.ID)
			}
			ids = append(ids, p.ID)
			if _, err := db.DeletePostRow(ctx, p.ID); err != nil {
				t.Fatal(err)
			}
		}
		if b.Name != "sqlite" {
			return
		}
		// SQLite's counter, moved or lost by hand, still gives a root its
		// own id as its thread.
		for _, tamper := range []string{"UPDATE sqlite_sequence SET seq = seq + 10 WHERE name = 'posts'", "DELETE FROM sqlite_sequence"} {
			if _, err := db.Bun.ExecContext(ctx, tamper); err != nil {
				t.Fatal(err)
			}
			p := &models.Post{UserID: author.ID, Text: tamper, CreatedAt: time.Now()}
			if _, err := db.CreatePost(ctx, p, nil, nil); err != nil {
				t.Fatal(err)
			}
			if p.ThreadID != p.ID {
				t.Fatalf("after %q post %d is in thread %d, want its own", tamper, p.ID, p.ThreadID)
			}
			var stored int64
			if err := db.Bun.NewSelect().Table("posts").Column("thread_id").Where("id = ?", p.ID).Scan(ctx, &stored); err != nil || stored != p.ID {
				t.Fatalf("after %q post %d is stored in thread %d (%v)", tamper, p.ID, stored, err)
			}
		}
	})
}

// TestCreatePostFindsListeners: on PostgreSQL a new post says whether its
// author or a user it mentions has a webhook, and whether its author has
// followers elsewhere; elsewhere it says nothing, and the sinks look.
func TestCreatePostFindsListeners(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db := migratedDB(t, b)
		quiet, mentioned := newUser(t, db, models.UserHuman), newUser(t, db, models.UserHuman)
		hooked, followed, followedHere := authorsWithListeners(t, db)
		now := time.Now()
		if _, err := db.Bun.ExecContext(ctx, "INSERT INTO webhooks (user_id, name, url, events, secret, retry_count, timeout_seconds, created_at, updated_at) VALUES (?, 'h', 'https://hooks.example', '[]', 's', 1, 1, ?, ?)", mentioned.ID, now, now); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			author   *models.User
			mentions []models.PostMention
			want     models.Listeners
		}{
			{author: quiet, want: models.Listeners{}},
			{author: quiet, mentions: []models.PostMention{{UserID: hooked.ID}}, want: models.Listeners{Webhooks: true}},
			{author: quiet, mentions: []models.PostMention{{UserID: followed.ID}}, want: models.Listeners{}},
			{author: hooked, want: models.Listeners{Webhooks: true}},
			{author: followed, mentions: []models.PostMention{{UserID: mentioned.ID}}, want: models.Listeners{Webhooks: true, RemoteFollowers: true}},
			{author: followed, want: models.Listeners{RemoteFollowers: true}},
			{author: followedHere, want: models.Listeners{}},
		} {
			p := &models.Post{UserID: c.author.ID, Text: "who hears", CreatedAt: now}
			if _, err := db.CreatePost(ctx, p, c.mentions, nil); err != nil {
				t.Fatal(err)
			}
			switch {
			case b.Name != "postgres" && p.Listeners != nil:
				t.Errorf("%s: listeners %+v, want none said", b.Name, *p.Listeners)
			case b.Name == "postgres" && (p.Listeners == nil || *p.Listeners != c.want):
				t.Errorf("post by %s mentioning %v: listeners %+v, want %+v", c.author.Username, c.mentions, p.Listeners, c.want)
			}
		}
	})
}

// TestCreateUnheardPostWritesOnlyWhatNoOneHears: on PostgreSQL a post no
// one hears of is written whole, as CreatePost writes it; one that a
// webhook or a remote follower hears of is not written at all. Elsewhere
// nothing is written, and the caller takes the transaction.
func TestCreateUnheardPostWritesOnlyWhatNoOneHears(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db := migratedDB(t, b)
		quiet, other := newUser(t, db, models.UserHuman), newUser(t, db, models.UserHuman)
		hooked, followed, followedHere := authorsWithListeners(t, db)
		for _, c := range []struct {
			name     string
			author   *models.User
			mentions []models.PostMention
			heard    bool
		}{
			{name: "no one", author: quiet, mentions: []models.PostMention{{UserID: other.ID, Leading: true}, {UserID: followed.ID}}},
			{name: "the author's webhook", author: hooked, heard: true},
			{name: "a mentioned user's webhook", author: quiet, mentions: []models.PostMention{{UserID: hooked.ID}}, heard: true},
			{name: "a remote follower", author: followed, heard: true},
			{name: "only local followers", author: followedHere},
		} {
			newPost := func(text string) *models.Post {
				return &models.Post{UserID: c.author.ID, Text: text, SourceName: "tests", CreatedAt: time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC),
					Entities: models.Entities{Tags: []models.Tag{{Pos: 0, Len: 3, Text: "tag"}}}}
			}
			before := storedPostCount(t, db, c.author.ID)
			alone := newPost("alone " + c.name)
			count, written, err := db.CreateUnheardPost(ctx, alone, c.mentions, []string{"tag"})
			if err != nil {
				t.Fatal(err)
			}
			if want := b.Name == "postgres" && !c.heard; written != want {
				t.Fatalf("%s: written %v, want %v", c.name, written, want)
			}
			if !written {
				if alone.ID != 0 || storedPostCount(t, db, c.author.ID) != before {
					t.Fatalf("%s: not written, yet the post has id %d and the author's count moved from %d", c.name, alone.ID, before)
				}
				continue
			}
			if count != before+1 || alone.Listeners == nil || *alone.Listeners != (models.Listeners{}) {
				t.Errorf("%s: count %d from %d, listeners %+v", c.name, count, before, alone.Listeners)
			}
			inTx := newPost("in a transaction " + c.name)
			if _, err := db.CreatePost(ctx, inTx, c.mentions, []string{"tag"}); err != nil {
				t.Fatal(err)
			}
			if g, w := storedPost(t, db, alone.ID), storedPost(t, db, inTx.ID); g != w {
				t.Errorf("%s: stored alone:\n%s\nby CreatePost:\n%s", c.name, g, w)
			}
		}
		var posts int
		if err := db.Bun.NewSelect().Table("posts").ColumnExpr("count(*)").Scan(ctx, &posts); err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"postgres": 4}[b.Name]; posts != want {
			t.Fatalf("%d posts stored, want %d", posts, want)
		}
	})
}

// TestUnheardPostsCountOnceEach: posts written alone at once by one author
// each add one to their author's count.
func TestUnheardPostsCountOnceEach(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		if b.Name != "postgres" {
			t.Skip("only PostgreSQL writes a post alone")
		}
		ctx := context.Background()
		db := migratedDB(t, b)
		author := newUser(t, db, models.UserHuman)
		const writers, each = 16, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					p := &models.Post{UserID: author.ID, Text: fmt.Sprint("post ", w, " ", i), CreatedAt: time.Now()}
					if _, written, err := db.CreateUnheardPost(ctx, p, nil, []string{"many"}); err != nil || !written {
						errs <- fmt.Errorf("post %d/%d: written %v, %v", w, i, written, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var rows, tags int
		if err := db.Bun.NewSelect().Table("posts").ColumnExpr("count(*)").Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		if err := db.Bun.NewSelect().Table("post_tags").ColumnExpr("count(*)").Scan(ctx, &tags); err != nil {
			t.Fatal(err)
		}
		if n := storedPostCount(t, db, author.ID); n != writers*each || rows != writers*each || tags != writers*each {
			t.Fatalf("count %d, %d post rows, %d tag rows; want %d each", n, rows, tags, writers*each)
		}
	})
}
