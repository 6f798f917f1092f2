package api_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

type apiPost struct {
	ID        string `json:"id"`
	ThreadID  string `json:"thread_id"`
	ReplyTo   string `json:"reply_to"`
	CreatedAt string `json:"created_at"`
	User      *struct {
		Username string `json:"username"`
		Counts   struct {
			Posts     int `json:"posts"`
			Bookmarks int `json:"bookmarks"`
		} `json:"counts"`
	} `json:"user"`
	UserID  string `json:"user_id"`
	Content *struct {
		Text     string          `json:"text"`
		HTML     string          `json:"html"`
		Entities models.Entities `json:"entities"`
	} `json:"content"`
	Counts *struct {
		Bookmarks, Replies, Reposts, Threads int
	} `json:"counts"`
	RepostOf      *apiPost       `json:"repost_of"`
	IsDeleted     bool           `json:"is_deleted"`
	IsNSFW        bool           `json:"is_nsfw"`
	IsRevised     bool           `json:"is_revised"`
	Revision      *int           `json:"revision"`
	Raw           map[string]any `json:"raw"`
	YouBookmarked *bool          `json:"you_bookmarked"`
	YouReposted   *bool          `json:"you_reposted"`
}

// poster is a user with a write_post token on a running server.
type poster struct {
	srv   *apptest.Server
	user  *models.User
	token string
}

func newPoster(t *testing.T, srv *apptest.Server, name string, typ models.UserType) poster {
	u := srv.CreateUser(t, name, typ)
	return poster{srv: srv, user: u, token: srv.Token(t, u, models.ScopeWritePost)}
}

func (p poster) post(t *testing.T, body any) *apptest.Response {
	t.Helper()
	return p.srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/posts", Token: p.token, Body: body})
}

func (p poster) mustPost(t *testing.T, body any) apiPost {
	t.Helper()
	var out apiPost
	p.post(t, body).Expect(t, 201).Decode(t, &out)
	return out
}

func (p poster) do(t *testing.T, method, path string, body any) *apptest.Response {
	t.Helper()
	return p.srv.Do(t, apptest.Request{Method: method, Path: path, Token: p.token, Body: body})
}

func startPosts(t *testing.T, b testenv.Backend) *apptest.Server {
	return apptest.Start(t, b, func(c *config.Config) { c.RateLimits.Enabled = false })
}

func TestCreateAndReadPost(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		bob := newPoster(t, srv, "bob", models.UserHuman)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		p := alice.mustPost(t, map[string]any{"text": "hi @bob, see [the docs](https://pnut.io/docs \"Docs\") #Pecan_News"})
		if p.Content == nil || p.Content.Text != "hi @bob, see the docs [pnut.io] #Pecan_News" {
			t.Fatalf("stored text %+v", p.Content)
		}
		e := p.Content.Entities
		if len(e.Mentions) != 1 || e.Mentions[0].ID != fmt.Sprint(bob.user.ID) || len(e.Tags) != 1 || len(e.Links) != 1 || e.Links[0].Title != "Docs" {
			t.Fatalf("entities %+v", e)
		}
		if !strings.Contains(p.Content.HTML, `data-mention-id="`+fmt.Sprint(bob.user.ID)+`"`) || !strings.Contains(p.Content.HTML, `<a href="https://pnut.io/docs"`) {
			t.Fatalf("html %s", p.Content.HTML)
		}
		if p.ThreadID != p.ID || p.User == nil || p.User.Username != "alice" || p.User.Counts.Posts != 1 || p.IsNSFW {
			t.Fatalf("post %+v", p)
		}

		var got apiPost
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/" + p.ID}).Expect(t, 200).Decode(t, &got)
		if got.Content.Text != p.Content.Text || got.YouBookmarked != nil {
			t.Fatalf("read back %+v", got)
		}
		var bare apiPost
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/" + p.ID + "?include_user=0&include_html=0&include_counts=0"}).Expect(t, 200).Decode(t, &bare)
		if bare.User != nil || bare.UserID != fmt.Sprint(alice.user.ID) || bare.Content.HTML != "" || bare.Counts != nil {
			t.Fatalf("general parameters ignored: %+v", bare)
		}
		var tagged apiPost
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/" + p.ID + "?include_raw=1", Token: bob.token}).Expect(t, 200).Decode(t, &tagged)
		if tagged.YouBookmarked == nil || *tagged.YouBookmarked {
			t.Fatalf("you_bookmarked for a signed-in viewer: %+v", tagged)
		}
	})
}

// TestAnswersWrittenAtOnceKeepTheirOwnBodies: answers are encoded into
// recycled buffers; many requests at once each get their own post, whole,
// pretty-printed or not.
func TestAnswersWrittenAtOnceKeepTheirOwnBodies(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		var posts []apiPost
		for i := range 8 {
			text := strings.Repeat(strconv.Itoa(i), 100+20*i)
			posts = append(posts, alice.mustPost(t, map[string]any{"text": text}))
		}
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 10 {
					want := posts[(g+j)%len(posts)]
					req := apptest.Request{Method: "GET", Path: "/v1/posts/" + want.ID}
					if j%5 == 0 {
						req.Header = map[string][]string{"X-Pretty-Json": {"1"}}
					}
					res, err := srv.Send(req)
					if err != nil || res.Status != 200 {
						t.Errorf("GET post %s: %v %v", want.ID, res, err)
						return
					}
					var got apiPost
					if err := json.Unmarshal(res.Data, &got); err != nil || got.ID != want.ID || got.Content == nil || got.Content.Text != want.Content.Text {
						t.Errorf("GET post %s answered post %s (%v): %.80s", want.ID, got.ID, err, res.Data)
						return
					}
				}
			}()
		}
		wg.Wait()
	})
}

// TestMentionsOfUsersOldAndNew: a user mentioned again, in another case,
// is the same user; a name no one has is no mention, and becomes one once
// someone signs up with it.
func TestMentionsOfUsersOldAndNew(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		bob := newPoster(t, srv, "bob", models.UserHuman)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		mentions := func(text string) []string {
			t.Helper()
			var ids []string
			for _, m := range alice.mustPost(t, map[string]any{"text": text}).Content.Entities.Mentions {
				ids = append(ids, m.ID+"="+m.Text)
			}
			return ids
		}
		bobID := fmt.Sprint(bob.user.ID)
		if got := mentions("@bob and @carol"); !slices.Equal(got, []string{bobID + "=bob"}) {
			t.Fatalf("before carol signs up: mentions %v", got)
		}
		carol := newPoster(t, srv, "carol", models.UserHuman)
		if got, want := mentions("@BOB and @Carol again"), []string{bobID + "=BOB", fmt.Sprint(carol.user.ID) + "=Carol"}; !slices.Equal(got, want) {
			t.Fatalf("after carol signs up: mentions %v, want %v", got, want)
		}
	})
}

func TestPostValidation(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		cases := []struct {
			name   string
			body   any
			status int
			code   string
			field  string
		}{
			{"no text", map[string]any{}, 400, "text_missing", "text"},
			{"blank text", map[string]any{"text": "  \n "}, 400, "text_missing", "text"},
			{"257 characters", map[string]any{"text": strings.Repeat("é", 257)}, 400, "text_too_long", "text"},
			{"huge markdown input", map[string]any{"text": "[x](https://a.example/" + strings.Repeat("p", 5000) + ")"}, 400, "text_too_long", "text"},
			{"raw too large", map[string]any{"text": "x1", "raw": map[string]any{"a.b": []any{map[string]any{"v": strings.Repeat("x", 9000)}}}}, 400, "raw_too_large", "raw"},
			{"raw not a list", map[string]any{"text": "x2", "raw": map[string]any{"a.b": "x"}}, 400, "invalid_raw", "raw"},
			{"crosspost without url", map[string]any{"text": "x3", "raw": map[string]any{"io.pnut.core.crosspost": []any{map[string]any{"canonical_url": "not a url"}}}}, 400, "invalid_raw", "raw.io.pnut.core.crosspost"},
			{"bad language", map[string]any{"text": "x4", "raw": map[string]any{"io.pnut.core.language": []any{map[string]any{"language": "xx"}}}}, 400, "invalid_raw", "raw.io.pnut.core.language"},
			{"unknown core raw", map[string]any{"text": "x5", "raw": map[string]any{"io.pnut.core.bogus": []any{map[string]any{}}}}, 400, "invalid_raw", "raw.io.pnut.core.bogus"},
			{"reply to nothing", map[string]any{"text": "x6", "reply_to": "999999"}, 400, "reply_to_not_found", "reply_to"},
			{"reply_to not a number", map[string]any{"text": "x7", "reply_to": "abc"}, 400, "invalid_type", "reply_to"},
			{"is_nsfw not a boolean", map[string]any{"text": "x8", "is_nsfw": "maybe"}, 400, "invalid_type", "is_nsfw"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				resp := alice.post(t, tc.body).ExpectError(t, tc.status, tc.code)
				if got, _ := resp.Meta["field"].(string); got != tc.field {
					t.Fatalf("field %q, want %q", got, tc.field)
				}
			})
		}
		// 256 code points pass; emoji sequences count every code point.
		family := "👩‍👩‍👧" // 5 code points
		alice.mustPost(t, map[string]any{"text": strings.Repeat(family, 51) + "x"})
		alice.post(t, map[string]any{"text": strings.Repeat(family, 51) + "xy"}).ExpectError(t, 400, "text_too_long")
		// Valid core raw is kept and shown with include_raw.
		p := alice.mustPost(t, map[string]any{"text": "with raw", "raw": map[string]any{
			"io.pnut.core.crosspost": []any{map[string]any{"canonical_url": "https://example.com/a"}},
			"io.pnut.core.language":  []any{map[string]any{"language": "de"}},
		}})
		var withRaw apiPost
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/" + p.ID + "?include_raw=1"}).Expect(t, 200).Decode(t, &withRaw)
		if withRaw.Raw["io.pnut.core.crosspost"] == nil || p.Raw != nil {
			t.Fatalf("raw shown %v, hidden by default %v", withRaw.Raw, p.Raw)
		}
	})
}

// raw's limit is on the JSON the client sends: characters that Go's
// encoder would escape, like <, count one byte each, not six.
func TestRawLimitCountsBytesAsSent(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		bot := newPoster(t, srv, "bot", models.UserBot)
		// rawOf builds a raw of exactly n bytes as sent: {"x.y":[{"v":"<<…"}]}.
		rawOf := func(n int, fill string) string {
			const frame = `{"x.y":[{"v":""}]}`
			return `{"x.y":[{"v":"` + strings.Repeat(fill, n-len(frame)) + `"}]}`
		}
		send := func(raw string) *apptest.Response {
			return srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/posts?include_raw=1", Token: bot.token,
				ContentType: "application/json", Body: `{"text":"raw","raw":` + raw + `}`})
		}
		for _, fill := range []string{"<", "&", "x"} {
			var p apiPost
			send(rawOf(8192, fill)).Expect(t, 201).Decode(t, &p)
			items, _ := p.Raw["x.y"].([]any)
			if len(items) != 1 || items[0].(map[string]any)["v"] != strings.Repeat(fill, 8192-18) {
				t.Fatalf("raw of %q not kept whole: %.80v", fill, p.Raw)
			}
			resp := send(rawOf(8193, fill)).ExpectError(t, 400, "raw_too_large")
			if field, _ := resp.Meta["field"].(string); field != "raw" {
				t.Fatalf("raw_too_large names field %q", field)
			}
		}
	})
}

// Tags are judged as they are looked up, lowercased without "_": what
// normalises to digits only, or to nothing, is not a tag and not indexed.
func TestTagsJudgedAfterNormalising(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		p := alice.mustPost(t, map[string]any{"text": "#_123 #123_ #__ #Real_One"})
		if tags := p.Content.Entities.Tags; len(tags) != 1 || tags[0].Text != "Real_One" {
			t.Fatalf("tags %+v, want only Real_One", tags)
		}
		var rows []string
		if err := srv.App.DB.Bun.NewSelect().Table("post_tags").Column("tag").Scan(t.Context(), &rows); err != nil {
			t.Fatal(err)
		}
		if strings.Join(rows, ",") != "realone" {
			t.Fatalf("post_tags rows %q, want [realone]", rows)
		}
		var list []apiPost
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/tags/123"}).Expect(t, 200).Decode(t, &list)
		if len(list) != 0 {
			t.Fatalf("tag 123 lists %d posts", len(list))
		}
	})
}

// source is the client object unless include_client=0, when pnut gives
// the client's id alone.
func TestIncludeClient(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		p := alice.mustPost(t, map[string]any{"text": "from a client"})
		source := func(query string) any {
			var got struct {
				Source any `json:"source"`
			}
			srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/" + p.ID + query}).Expect(t, 200).Decode(t, &got)
			return got.Source
		}
		for _, query := range []string{"", "?include_client=1"} {
			obj, ok := source(query).(map[string]any)
			if !ok || obj["id"] != "pecan" || obj["name"] != "test" || obj["url"] != srv.App.Config.PublicURL() {
				t.Fatalf("source with %q: %#v, want {id: pecan, name: test, url}", query, source(query))
			}
		}
		if got := source("?include_client=0"); got != "pecan" {
			t.Fatalf("source with include_client=0: %#v, want the bare id \"pecan\"", got)
		}
	})
}

// Every input error names the field at fault.
func TestErrorFields(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		root := alice.mustPost(t, map[string]any{"text": "root"})
		p := alice.mustPost(t, map[string]any{"text": "see https://pnut.io", "reply_to": root.ID})
		other := alice.mustPost(t, map[string]any{"text": "another"})
		cases := []struct {
			name, method, path string
			body               any
			code, field        string
		}{
			{"entities changed", "PUT", "/v1/posts/" + p.ID, map[string]any{"text": "see https://pnut.io/x"}, "entities_changed", "text"},
			{"raw immutable", "PUT", "/v1/posts/" + p.ID, map[string]any{"text": "see https://pnut.io!", "raw": map[string]any{"a.b": []any{map[string]any{}}}}, "raw_immutable", "raw"},
			{"reply_to immutable", "PUT", "/v1/posts/" + p.ID, map[string]any{"text": "see https://pnut.io!", "reply_to": other.ID}, "reply_to_immutable", "reply_to"},
			{"note too long", "PUT", "/v1/posts/" + p.ID + "/bookmark", map[string]any{"note": strings.Repeat("n", 129)}, "note_too_long", "note"},
			{"ids missing", "GET", "/v1/posts?ids=", nil, "ids_missing", "ids"},
			{"ids not numbers", "GET", "/v1/posts?ids=1,two", nil, "invalid_post_id", "ids"},
			{"path id not a number", "GET", "/v1/posts/two", nil, "invalid_post_id", "post_id"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				resp := alice.do(t, tc.method, tc.path, tc.body).ExpectError(t, 400, tc.code)
				if got, _ := resp.Meta["field"].(string); got != tc.field {
					t.Fatalf("field %q, want %q", got, tc.field)
				}
			})
		}
	})
}

func TestFormBodyAndNSFW(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		var p apiPost
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/posts", Token: alice.token, ContentType: "application/x-www-form-urlencoded",
			Body: "text=look+at+example.com+%23NSFW&entities.parse_links=0"}).Expect(t, 201).Decode(t, &p)
		if !p.IsNSFW || len(p.Content.Entities.Links) != 0 {
			t.Fatalf("form post %+v", p)
		}
		p = alice.mustPost(t, map[string]any{"text": "tagged #nsfw but not", "is_nsfw": false})
		if p.IsNSFW {
			t.Fatalf("explicit is_nsfw=false ignored")
		}
		p = alice.mustPost(t, map[string]any{"text": "[x](https://a.example)", "entities": map[string]any{"parse_markdown_links": false}})
		if p.Content.Text != "[x](https://a.example)" {
			t.Fatalf("markdown parsed although off: %q", p.Content.Text)
		}
	})
}

func TestDuplicateWindowUnderConcurrency(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		human := newPoster(t, srv, "human", models.UserHuman)
		bot := newPoster(t, srv, "bot", models.UserBot)
		for _, tc := range []struct {
			who     poster
			created int
		}{{human, 1}, {bot, 20}} {
			statuses, responses := fire(t, srv, 20, apptest.Request{Method: "POST", Path: "/v1/posts", Token: tc.who.token,
				Body: map[string]any{"text": "the same words"}})
			if statuses[201] != tc.created || statuses[409] != 20-tc.created {
				t.Fatalf("%s: statuses %v, want %d×201", tc.who.user.Username, statuses, tc.created)
			}
			for _, r := range responses {
				if r.Status == 409 {
					r.ExpectError(t, 409, "duplicate_post")
				}
			}
		}
		var u struct {
			Counts struct{ Posts int } `json:"counts"`
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@human"}).Expect(t, 200).Decode(t, &u)
		if u.Counts.Posts != 1 {
			t.Fatalf("human has %d posts, want 1", u.Counts.Posts)
		}
		// Different text is fine at once.
		human.mustPost(t, map[string]any{"text": "other words"})
	})
}

// The duplicate window lasts 120 s of the app's clock. Redis expires keys
// in real time, which a test cannot move, so there only the inside of the
// window is checked.
func TestDuplicateWindowExpires(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		same := map[string]any{"text": "said it once"}
		alice.mustPost(t, same)
		srv.Clock.Advance(119 * time.Second)
		resp := alice.post(t, same).ExpectError(t, 409, "duplicate_post")
		if field, _ := resp.Meta["field"].(string); field != "text" {
			t.Fatalf("duplicate_post names field %q, want text", field)
		}
		srv.Clock.Advance(2 * time.Second)
		if b.RedisURL == "" { // 121 s of the fake clock are not 121 s of Redis's
			alice.post(t, same).Expect(t, 201)
		}
	})
}

// Replicas share the duplicate window through the key-value store: twenty
// identical posts sent at once, alternating between two servers on one
// database and one Redis prefix, make exactly one post.
func TestDuplicateWindowAcrossReplicas(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		if b.RedisURL == "" {
			// Two servers on one SQLite file post the text twice: each
			// keeps its window in its own memory. DESIGN §2 supports
			// replicas only on a shared PostgreSQL and Redis.
			t.Skip("replicas share the duplicate window only through Redis")
		}
		replicas := []*apptest.Server{startPosts(t, b), startPosts(t, b)}
		human := newPoster(t, replicas[0], "human", models.UserHuman)
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			statuses = map[int]int{}
			start    = make(chan struct{})
		)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, err := replicas[i%2].Send(apptest.Request{Method: "POST", Path: "/v1/posts", Token: human.token,
					Body: map[string]any{"text": "said on two servers"}})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					statuses[-1]++
					return
				}
				statuses[resp.Status]++
			}()
		}
		close(start)
		wg.Wait()
		if statuses[201] != 1 || statuses[409] != 19 {
			t.Fatalf("statuses %v, want one 201 and nineteen 409", statuses)
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		bot := newPoster(t, srv, "bot", models.UserBot)
		req := apptest.Request{Method: "POST", Path: "/v1/posts", Token: bot.token, Body: map[string]any{"text": "once"},
			Header: map[string][]string{"Idempotency-Key": {"abc-123"}}}
		var first, second apiPost
		srv.Do(t, req).Expect(t, 201).Decode(t, &first)
		srv.Do(t, req).Expect(t, 201).Decode(t, &second)
		if first.ID != second.ID {
			t.Fatalf("two posts %s and %s for one key", first.ID, second.ID)
		}
		// A failed request is not remembered.
		bad := apptest.Request{Method: "POST", Path: "/v1/posts", Token: bot.token, Body: map[string]any{"text": ""},
			Header: map[string][]string{"Idempotency-Key": {"retry-me"}}}
		srv.Do(t, bad).ExpectError(t, 400, "text_missing")
		bad.Body = map[string]any{"text": "fixed"}
		srv.Do(t, bad).Expect(t, 201)
		// Concurrent requests with one key make one post.
		statuses, responses := fire(t, srv, 10, apptest.Request{Method: "POST", Path: "/v1/posts", Token: bot.token,
			Body: map[string]any{"text": "racing"}, Header: map[string][]string{"Idempotency-Key": {"race"}}})
		ids := map[string]bool{}
		for _, r := range responses {
			if r.Status == 201 {
				var p apiPost
				r.Decode(t, &p)
				ids[p.ID] = true
			} else {
				r.ExpectError(t, 409, "request_in_progress")
			}
		}
		if len(ids) != 1 || statuses[201] < 1 {
			t.Fatalf("statuses %v, posts %v; want one post", statuses, ids)
		}
	})
}

func TestRevisionRules(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		bob := newPoster(t, srv, "bob", models.UserHuman)
		text := "see https://pnut.io with @bob #go"
		p := alice.mustPost(t, map[string]any{"text": text})
		path := "/v1/posts/" + p.ID

		bob.do(t, "PUT", path, map[string]any{"text": text + "!"}).ExpectError(t, 403, "not_yours")
		for _, changed := range []string{
			"see https://pnut.io/other with @bob #go",
			"see https://pnut.io with @alice #go",
			"see https://pnut.io with @bob #golang",
			"see https://pnut.io with @bob",
		} {
			alice.do(t, "PUT", path, map[string]any{"text": changed}).ExpectError(t, 400, "entities_changed")
		}
		var revised apiPost
		alice.do(t, "PUT", path, map[string]any{"text": "#go: @bob, see https://pnut.io", "is_nsfw": true}).Expect(t, 201).Decode(t, &revised)
		if !revised.IsRevised || !revised.IsNSFW || revised.Content.Text != "#go: @bob, see https://pnut.io" || revised.ID != p.ID {
			t.Fatalf("revised %+v", revised)
		}
		alice.do(t, "PUT", path, map[string]any{"text": "again @bob https://pnut.io #go"}).ExpectError(t, 409, "already_revised")

		var revs []apiPost
		srv.Do(t, apptest.Request{Method: "GET", Path: path + "/revisions"}).Expect(t, 200).Decode(t, &revs)
		if len(revs) != 1 || revs[0].Revision == nil || *revs[0].Revision != 0 || revs[0].Content.Text != text || revs[0].IsRevised || revs[0].IsNSFW {
			t.Fatalf("revisions %+v", revs)
		}

		alice.do(t, "PUT", "/v1/posts/999999", map[string]any{"text": "x"}).ExpectError(t, 404, "post_not_found")
	})
}

// "Within 300 s": a post may be revised while it is at most 300 s old, by
// the pre-check and the conditional UPDATE alike.
func TestRevisionWindowEdge(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		for _, tc := range []struct {
			age    time.Duration
			status int
		}{
			{300 * time.Second, 201},
			{300*time.Second + time.Microsecond, 409},
			{301 * time.Second, 409},
		} {
			p := alice.mustPost(t, map[string]any{"text": "aged " + tc.age.String()})
			srv.Clock.Advance(tc.age)
			resp := alice.do(t, "PUT", "/v1/posts/"+p.ID, map[string]any{"text": "aged " + tc.age.String() + "!"})
			if tc.status == 201 {
				resp.Expect(t, 201)
			} else {
				resp.ExpectError(t, 409, "revision_window_closed")
			}
		}
		// The statement alone, as a revision that passed the pre-check just
		// before the window closed would run it.
		p := alice.mustPost(t, map[string]any{"text": "raced the clock"})
		id, _ := strconv.ParseInt(p.ID, 10, 64)
		stored, err := srv.App.DB.PostByID(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			notBefore time.Time
			applied   bool
		}{{stored.CreatedAt.Add(time.Microsecond), false}, {stored.CreatedAt, true}} {
			applied, err := srv.App.DB.RevisePost(t.Context(), database.ReviseWindow{PostID: id, UserID: alice.user.ID,
				Text: "raced", Entities: stored.Entities, RevisedAt: stored.CreatedAt, NotBefore: tc.notBefore})
			if err != nil || applied != tc.applied {
				t.Fatalf("RevisePost with the window opening %v after creation: applied %v (%v), want %v",
					tc.notBefore.Sub(stored.CreatedAt), applied, err, tc.applied)
			}
		}
	})
}

// A revision may move a mention to or from the front of the text, which
// changes whom the post is addressed to and so who sees it with
// include_directed_posts=0.
func TestRevisionMovesLeadingMentions(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		amy, cat := newMember(t, srv, "amy"), newMember(t, srv, "cat")
		newMember(t, srv, "bob")
		amy.act(t, "PUT", "/v1/users/@cat/follow").Expect(t, 200)
		toBob := cat.mustPost(t, map[string]any{"text": "@bob are you there"})
		aboutBob := cat.mustPost(t, map[string]any{"text": "I met @bob"})
		shown := func() string {
			var list []apiPost
			srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/streams/me?include_directed_posts=0", Token: amy.graph}).Expect(t, 200).Decode(t, &list)
			return postIDs(list)
		}
		if got := shown(); got != aboutBob.ID {
			t.Fatalf("before the revisions amy sees %q, want %s", got, aboutBob.ID)
		}
		cat.do(t, "PUT", "/v1/posts/"+toBob.ID, map[string]any{"text": "are you there @bob"}).Expect(t, 201)
		cat.do(t, "PUT", "/v1/posts/"+aboutBob.ID, map[string]any{"text": "@bob I met you"}).Expect(t, 201)
		if got := shown(); got != toBob.ID {
			t.Fatalf("after the revisions amy sees %q, want %s", got, toBob.ID)
		}
	})
}

func TestRacingRevisionsOneWins(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		for round := range 3 {
			p := alice.mustPost(t, map[string]any{"text": fmt.Sprintf("round %d", round)})
			var wg sync.WaitGroup
			results := make([]*apptest.Response, 2)
			start := make(chan struct{})
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i], _ = srv.Send(apptest.Request{Method: "PUT", Path: "/v1/posts/" + p.ID, Token: alice.token,
						Body: map[string]any{"text": fmt.Sprintf("round %d, take %d", round, i)}})
				}()
			}
			close(start)
			wg.Wait()
			codes := []int{results[0].Status, results[1].Status}
			if !(codes[0] == 201 && codes[1] == 409 || codes[0] == 409 && codes[1] == 201) {
				t.Fatalf("round %d: statuses %v, want one 201 and one 409", round, codes)
			}
			var revs []apiPost
			srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/" + p.ID + "/revisions"}).Expect(t, 200).Decode(t, &revs)
			if len(revs) != 1 {
				t.Fatalf("round %d: %d revisions kept", round, len(revs))
			}
		}
	})
}

func TestRepliesRepostsBookmarksAndDelete(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		bob := newPoster(t, srv, "bob", models.UserHuman)
		root := alice.mustPost(t, map[string]any{"text": "root"})
		reply := bob.mustPost(t, map[string]any{"text": "reply", "reply_to": root.ID})
		deeper := alice.mustPost(t, map[string]any{"text": "deeper", "reply_to": reply.ID})
		if reply.ThreadID != root.ID || deeper.ThreadID != root.ID || deeper.ReplyTo != reply.ID {
			t.Fatalf("threading: reply %+v deeper %+v", reply, deeper)
		}

		var original apiPost
		bob.do(t, "PUT", "/v1/posts/"+root.ID+"/repost", nil).Expect(t, 201).Decode(t, &original)
		if original.ID != root.ID || original.Counts.Reposts != 1 || original.YouReposted == nil || !*original.YouReposted {
			t.Fatalf("repost answer %+v", original)
		}
		bob.do(t, "PUT", "/v1/posts/"+root.ID+"/repost", nil).Expect(t, 201).Decode(t, &original)
		if original.Counts.Reposts != 1 {
			t.Fatalf("reposting twice counted twice")
		}
		var bobsPosts []apiPost
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@bob/posts"}).Expect(t, 200).Decode(t, &bobsPosts)
		if len(bobsPosts) != 2 || bobsPosts[0].RepostOf == nil || bobsPosts[0].RepostOf.ID != root.ID || bobsPosts[0].Content.Text != "root" {
			t.Fatalf("bob's stream %+v", bobsPosts)
		}
		repostID := bobsPosts[0].ID
		// Reposting a repost reposts the original.
		alice.do(t, "PUT", "/v1/posts/"+repostID+"/repost", nil).Expect(t, 201).Decode(t, &original)
		if original.ID != root.ID || original.Counts.Reposts != 2 {
			t.Fatalf("repost of a repost %+v", original)
		}

		var marked apiPost
		bob.do(t, "PUT", "/v1/posts/"+root.ID+"/bookmark", map[string]any{"note": "read later"}).Expect(t, 200).Decode(t, &marked)
		if marked.Counts.Bookmarks != 1 || !*marked.YouBookmarked {
			t.Fatalf("bookmark %+v", marked)
		}
		bob.do(t, "PUT", "/v1/posts/"+root.ID+"/bookmark", map[string]any{"note": "changed my mind"}).Expect(t, 200).Decode(t, &marked)
		if marked.Counts.Bookmarks != 1 {
			t.Fatalf("bookmarking again counted again: %+v", marked.Counts)
		}
		bob.do(t, "PUT", "/v1/posts/"+root.ID+"/bookmark", map[string]any{"note": strings.Repeat("n", 129)}).ExpectError(t, 400, "note_too_long")
		alice.do(t, "PUT", "/v1/posts/"+reply.ID+"/bookmark", nil).Expect(t, 200)
		alice.do(t, "DELETE", "/v1/posts/"+reply.ID+"/bookmark", nil).Expect(t, 200).Decode(t, &marked)
		if marked.Counts.Bookmarks != 0 || *marked.YouBookmarked {
			t.Fatalf("after unbookmark %+v", marked)
		}

		var thread []apiPost
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/" + deeper.ID + "/thread"}).Expect(t, 200).Decode(t, &thread)
		if len(thread) != 3 || thread[0].ID != deeper.ID || thread[2].ID != root.ID || thread[2].Counts.Replies != 1 || thread[2].Counts.Threads != 2 {
			t.Fatalf("thread %+v", thread)
		}

		bob.do(t, "DELETE", "/v1/posts/"+root.ID, nil).ExpectError(t, 403, "not_yours")
		var gone apiPost
		alice.do(t, "DELETE", "/v1/posts/"+root.ID, nil).Expect(t, 200).Decode(t, &gone)
		if !gone.IsDeleted || gone.Content != nil {
			t.Fatalf("deleted post %+v", gone)
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/" + repostID}).ExpectError(t, 404, "post_not_found")
		for _, act := range []struct{ method, path string }{
			{"PUT", "/repost"}, {"PUT", "/bookmark"}, {"DELETE", ""}, {"PUT", ""},
		} {
			alice.do(t, act.method, "/v1/posts/"+root.ID+act.path, map[string]any{"text": "x"}).ExpectError(t, 404, "post_not_found")
		}
		bob.post(t, map[string]any{"text": "late reply", "reply_to": root.ID}).ExpectError(t, 400, "reply_to_not_found")

		var after apiPost
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/" + reply.ID}).Expect(t, 200).Decode(t, &after)
		if after.Content == nil || after.IsDeleted {
			t.Fatalf("reply vanished with its parent: %+v", after)
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@bob/posts?include_deleted=0"}).Expect(t, 200).Decode(t, &bobsPosts)
		if len(bobsPosts) != 1 {
			t.Fatalf("bob's posts after the delete: %+v", bobsPosts)
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/abc"}).ExpectError(t, 400, "invalid_post_id")
	})
}

func TestPostPagination(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		bot := newPoster(t, srv, "bot", models.UserBot)
		var ids []string
		for i := range 7 {
			ids = append(ids, bot.mustPost(t, map[string]any{"text": fmt.Sprintf("post %d", i)}).ID)
		}
		page := func(query string) ([]apiPost, map[string]any) {
			resp := srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@bot/posts?" + query}).Expect(t, 200)
			var list []apiPost
			resp.Decode(t, &list)
			return list, resp.Meta
		}
		list, meta := page("count=3")
		if len(list) != 3 || list[0].ID != ids[6] || meta["more"] != true || meta["max_id"] != ids[6] || meta["min_id"] != ids[4] {
			t.Fatalf("first page %v %v", list, meta)
		}
		list, meta = page("count=3&before_id=" + ids[4])
		if len(list) != 3 || list[0].ID != ids[3] || list[2].ID != ids[1] || meta["more"] != true {
			t.Fatalf("second page %v %v", list, meta)
		}
		list, meta = page("count=-2&since_id=" + ids[0])
		if len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[1] || meta["more"] != true {
			t.Fatalf("oldest-first page %v %v", list, meta)
		}
		list, meta = page("count=200")
		if len(list) != 7 || meta["more"] != false {
			t.Fatalf("whole stream: %d posts, %v", len(list), meta)
		}
		for _, bad := range []string{"count=500", "count=0", "count=-201", "count=ten"} {
			srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@bot/posts?" + bad}).ExpectError(t, 400, "invalid_pagination")
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@bot/posts?before_id=x"}).ExpectError(t, 400, "invalid_pagination")

		var many []apiPost
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts?ids=" + ids[2] + ",999," + ids[0]}).Expect(t, 200).Decode(t, &many)
		if len(many) != 2 || many[0].ID != ids[2] || many[1].ID != ids[0] {
			t.Fatalf("ids lookup %+v", many)
		}
	})
}

// pnut keeps deleted posts in lists, without content, unless the caller
// asks with include_deleted=0.
func TestIncludeDeletedOnLists(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		root := alice.mustPost(t, map[string]any{"text": "root"})
		gone := alice.mustPost(t, map[string]any{"text": "regretted", "reply_to": root.ID})
		kept := alice.mustPost(t, map[string]any{"text": "kept", "reply_to": root.ID})
		alice.do(t, "DELETE", "/v1/posts/"+gone.ID, nil).Expect(t, 200)

		for _, path := range []string{
			"/v1/posts?ids=" + kept.ID + "," + gone.ID + "," + root.ID,
			"/v1/posts/" + root.ID + "/thread",
			"/v1/users/@alice/posts",
		} {
			var all, live []apiPost
			srv.Do(t, apptest.Request{Method: "GET", Path: path}).Expect(t, 200).Decode(t, &all)
			if ids := postIDs(all); ids != kept.ID+","+gone.ID+","+root.ID {
				t.Errorf("%s: posts %s, want the deleted one in its place", path, ids)
			} else if !all[1].IsDeleted || all[1].Content != nil {
				t.Errorf("%s: deleted post shown as %+v", path, all[1])
			}
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			srv.Do(t, apptest.Request{Method: "GET", Path: path + sep + "include_deleted=0"}).Expect(t, 200).Decode(t, &live)
			if ids := postIDs(live); ids != kept.ID+","+root.ID {
				t.Errorf("%s with include_deleted=0: posts %s, want %s,%s", path, ids, kept.ID, root.ID)
			}
		}
	})
}

func postIDs(list []apiPost) string {
	ids := make([]string, len(list))
	for i, p := range list {
		ids[i] = p.ID
	}
	return strings.Join(ids, ",")
}

func TestTextProcess(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		newPoster(t, srv, "bob", models.UserHuman)
		var out struct {
			Text     string          `json:"text"`
			HTML     string          `json:"html"`
			Entities models.Entities `json:"entities"`
		}
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/text/process", Body: map[string]any{"text": "@bob <b>[x](example.com)</b> @nobody"}}).Expect(t, 200).Decode(t, &out)
		if out.Text != "@bob <b>x [example.com]</b> @nobody" || len(out.Entities.Mentions) != 1 || strings.Contains(out.HTML, "<b>") {
			t.Fatalf("processed %+v", out)
		}
		// Scheme and host are case-insensitive; the href uses one spelling.
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/text/process", Body: map[string]any{"text": "HTTP://Example.COM/Path"}}).Expect(t, 200).Decode(t, &out)
		if len(out.Entities.Links) != 1 || out.Entities.Links[0].URL != "http://example.com/Path" || !strings.Contains(out.HTML, `href="http://example.com/Path"`) {
			t.Fatalf("upper-case link processed as %+v", out)
		}
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/text/process", Body: map[string]any{"text": strings.Repeat("x", 257)}}).ExpectError(t, 400, "text_too_long")
		var count int
		if err := srv.App.DB.Bun.NewSelect().Table("posts").ColumnExpr("count(*)").Scan(t.Context(), &count); err != nil || count != 0 {
			t.Fatalf("text/process stored %d posts (%v)", count, err)
		}
	})
}

func TestConcurrentRepostsAndBookmarksCountOnce(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		bob := newPoster(t, srv, "bob", models.UserHuman)
		p := alice.mustPost(t, map[string]any{"text": "popular"})
		for _, action := range []string{"/repost", "/bookmark"} {
			statuses, _ := fire(t, srv, 12, apptest.Request{Method: "PUT", Path: "/v1/posts/" + p.ID + action, Token: bob.token})
			if statuses[-1] != 0 || statuses[500] != 0 {
				t.Fatalf("%s: statuses %v", action, statuses)
			}
		}
		var got apiPost
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/" + p.ID}).Expect(t, 200).Decode(t, &got)
		if got.Counts.Reposts != 1 || got.Counts.Bookmarks != 1 {
			t.Fatalf("counts after racing PUTs: %+v", got.Counts)
		}
		var bobsPosts []apiPost
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@bob/posts"}).Expect(t, 200).Decode(t, &bobsPosts)
		if len(bobsPosts) != 1 || bobsPosts[0].User.Counts.Posts != 1 {
			t.Fatalf("bob's reposts: %d, post count %+v", len(bobsPosts), bobsPosts)
		}
	})
}
