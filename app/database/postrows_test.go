package database

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// TestPostRowsMatchBun reads posts whose every column holds a value both
// by hand and through bun's models, and wants the same posts and authors.
func TestPostRowsMatchBun(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db := migratedDB(t, b)
		seedFullRows(t, db)

		var want []*models.Post
		if err := db.Bun.NewSelect().Model(&want).Relation("User", models.UserSummary).OrderExpr("post.id").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		requireEveryField(t, want[2], "User", "Original", "Mentioned", "Listeners")
		requireEveryField(t, want[2].User, "PasswordHash", "PublicKeyPEM", "PrivateKeyPEM")

		for _, prepared := range []bool{false, true} {
			p := InlineParams(db.Bun)
			if prepared {
				p = NewParams(db.Bun)
			}
			got, err := ReadPostsWithAuthors(ctx, p, SelectPostsWithAuthors(db.Bun).OrderExpr("post.id"))
			if err != nil {
				t.Fatal(err)
			}
			samePosts(t, got, want)
			bare, err := ReadPosts(ctx, p, SelectPosts(db.Bun).OrderExpr("post.id"))
			if err != nil {
				t.Fatal(err)
			}
			for _, post := range want {
				post.User = nil
			}
			samePosts(t, bare, want)
			for i := range want {
				want[i].User = got[i].User
			}
		}

		// One post by id reads the same, in a transaction too.
		err := db.InTx(ctx, func(ctx context.Context, q Queries) error {
			for _, queries := range []Queries{db.Queries, q} {
				for _, post := range want {
					got, err := queries.PostByID(ctx, post.ID)
					if err != nil {
						return err
					}
					samePosts(t, []*models.Post{got}, []*models.Post{post})
				}
				if _, err := queries.PostByID(ctx, want[len(want)-1].ID+1); !errors.Is(err, ErrNotFound) {
					t.Errorf("a post that is not there: %v, want ErrNotFound", err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestPostColumnsAreBunsColumns: a column added to models.Post or
// models.User must be added to the hand-written lists too.
func TestPostColumnsAreBunsColumns(t *testing.T) {
	db, err := Open("sqlite://"+t.TempDir()+"/columns.db", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check := func(model any, alias, list string, secret ...string) {
		var want []string
		for _, f := range db.Bun.Table(reflect.TypeOf(model)).Fields {
			if !slices.Contains(secret, f.Name) {
				want = append(want, f.Name)
			}
		}
		var got []string
		for _, m := range regexp.MustCompile(regexp.QuoteMeta(alias)+`\.([a-z_]+)`).FindAllStringSubmatch(list, -1) {
			got = append(got, m[1])
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s columns read by hand:\n%v\nbun's:\n%v", alias, got, want)
		}
	}
	check(models.Post{}, "post", postColumns)
	check(models.User{}, `"user"`, authorColumns, "password_hash", "public_key_pem", "private_key_pem")
}

func seedFullRows(t testing.TB, db *DB) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC)
	str := func(s string) *string { return &s }
	n := strconv.Itoa(rand.IntN(1 << 30))
	users := []*models.User{
		{Username: "Alice" + n, UsernameKey: "alice" + n, Name: "Alice", Type: models.UserHuman, ProfileText: "hi", Locale: "en",
			Timezone: "Europe/Berlin", PasswordHash: "x", PostCount: 2, BookmarkCount: 3, FollowerCount: 4, FollowingCount: 5,
			CreatedAt: at, UpdatedAt: at.Add(time.Hour)},
		{Username: "Bob" + n + "@remote.example", UsernameKey: "bob" + n + "@remote.example", Name: "Bob", Type: models.UserBot, ProfileText: "remote",
			Locale: "de", Timezone: "UTC", PostCount: 7, BookmarkCount: 8, FollowerCount: 9, FollowingCount: 10,
			CreatedAt: at, UpdatedAt: at.Add(2 * time.Hour), Domain: "remote.example", ActorID: str("https://remote.example/u/bob" + n),
			InboxURL: "https://remote.example/u/bob/inbox", SharedInboxURL: "https://remote.example/inbox",
			ProfileURL: "https://remote.example/@bob", KeyID: str("https://remote.example/u/bob" + n + "#key"), FetchedAt: new(at.Add(3 * time.Hour))},
	}
	if _, err := db.Bun.NewInsert().Model(&users).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	var entities models.Entities
	if err := json.Unmarshal([]byte(`{"links":[{"pos":0,"len":4,"link":"https://example.com"}],
		"mentions":[{"pos":5,"len":6,"id":"1","text":"alice","is_leading":false}],"tags":[{"pos":12,"len":4,"text":"tag"}]}`), &entities); err != nil {
		t.Fatal(err)
	}
	// Columns of a kind hold different values, so reading one in
	// another's place shows: the first post is revised but not NSFW, and
	// the full one replies to one post, reposts another and sits in a
	// thread of a third id.
	first := &models.Post{UserID: users[0].ID, Text: "first", CreatedAt: at, Entities: models.Entities{}, Raw: models.Raw{}, IsRevised: true}
	second := &models.Post{UserID: users[0].ID, Text: "second", CreatedAt: at, Entities: models.Entities{}, Raw: models.Raw{}}
	for _, p := range []*models.Post{first, second} {
		if _, err := db.Bun.NewInsert().Model(p).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	replyTo, repostOf, repostAuthor := first.ID, second.ID, users[0].ID
	full := &models.Post{UserID: users[1].ID, Text: "link @alice #tag", Entities: entities, IsNSFW: true, ReplyTo: &replyTo,
		ThreadID: first.ID + 1000, RepostOf: &repostOf, Raw: models.Raw{"io.pnut.core.oembed": {json.RawMessage(`{"type":"photo"}`)}},
		SourceName: "a bot", IsRevised: true, ReplyCount: 1, RepostCount: 2, BookmarkCount: 3, ThreadCount: 4,
		CreatedAt: at.Add(time.Minute), RevisedAt: new(at.Add(2 * time.Minute)), DeletedAt: new(at.Add(3 * time.Minute)),
		APID: str("https://remote.example/notes/" + n), APURL: "https://remote.example/@bob/1", RepostOfUserID: &repostAuthor}
	if _, err := db.Bun.NewInsert().Model(full).Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// requireEveryField fails if a field of v is zero, so a column added
// later without a value here cannot pass unnoticed.
func requireEveryField(t testing.TB, v any, except ...string) {
	t.Helper()
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		if f.IsExported() && f.Name != "BaseModel" && !slices.Contains(except, f.Name) && rv.Field(i).IsZero() {
			t.Errorf("the fixture leaves %s.%s empty", rv.Type().Name(), f.Name)
		}
	}
}

func samePosts(t *testing.T, got, want []*models.Post) {
	t.Helper()
	g, _ := json.Marshal(utc(got))
	w, _ := json.Marshal(utc(want))
	if string(g) != string(w) {
		t.Fatalf("read by hand:\n%s\nthrough bun:\n%s", g, w)
	}
}

// utc puts every time in UTC: the drivers hand back UTC or local time,
// and the same instant should compare equal.
func utc(posts []*models.Post) []*models.Post {
	for _, p := range posts {
		p.CreatedAt = p.CreatedAt.UTC()
		for _, t := range []**time.Time{&p.RevisedAt, &p.DeletedAt} {
			if *t != nil {
				*t = new((*t).UTC())
			}
		}
		if u := p.User; u != nil {
			u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
			if u.FetchedAt != nil {
				u.FetchedAt = new(u.FetchedAt.UTC())
			}
		}
	}
	return posts
}

// BenchmarkReadPage reads a page of 21 posts with their authors, by hand
// and through bun's models, on each backend under test.
func BenchmarkReadPage(b *testing.B) {
	for _, name := range testenv.Names() {
		ctx := context.Background()
		db := migratedDB(b, testenv.New(b, name))
		for range 11 {
			seedFullRows(b, db)
		}
		b.Run(name+"/by-hand", func(b *testing.B) {
			defer reportCPU(b)()
			for b.Loop() {
				p := NewParams(db.Bun)
				posts, err := ReadPostsWithAuthors(ctx, p, SelectPostsWithAuthors(db.Bun).Where("post.id > ?", p.Arg(0)).OrderExpr("post.id DESC").Limit(21))
				if err != nil || len(posts) != 21 {
					b.Fatal(len(posts), err)
				}
			}
		})
		b.Run(name+"/bun", func(b *testing.B) {
			defer reportCPU(b)()
			for b.Loop() {
				var posts []*models.Post
				p := NewParams(db.Bun)
				err := db.Bun.NewSelect().Model(&posts).Relation("User", models.UserSummary).Where("post.id > ?", p.Arg(0)).
					OrderExpr("post.id DESC").Limit(21).Conn(p.Conn()).Scan(ctx)
				if err != nil || len(posts) != 21 {
					b.Fatal(len(posts), err)
				}
			}
		})
	}
}

// reportCPU adds the process's CPU time per operation to a benchmark:
// ns/op also counts the wait for PostgreSQL, which is another process.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
