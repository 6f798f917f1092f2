package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// streamScenario is four people and a bot who follow, mute, block, post,
// reply, mention and repost; each stream is checked against what pnut
// would show.
type streamScenario struct {
	srv                *apptest.Server
	amy, bob, cat, dan member
	ids                map[string]string // post name → id
}

func newStreamScenario(t *testing.T, b testenv.Backend) *streamScenario {
	srv := startPosts(t, b)
	s := &streamScenario{srv: srv, amy: newMember(t, srv, "amy"), bob: newMember(t, srv, "bob"),
		cat: newMember(t, srv, "cat"), dan: newMember(t, srv, "dan"), ids: map[string]string{}}
	bot := newPoster(t, srv, "newsbot", models.UserBot)
	s.amy.act(t, "PUT", "/v1/users/@bob/follow").Expect(t, 200)
	s.amy.act(t, "PUT", "/v1/users/@cat/follow").Expect(t, 200)
	s.amy.act(t, "PUT", "/v1/users/@dan/mute").Expect(t, 200)
	s.bob.act(t, "PUT", "/v1/users/@cat/block").Expect(t, 200)

	s.ids["a1"] = s.amy.mustPost(t, map[string]any{"text": "hello from amy #pecan"}).ID
	s.ids["b1"] = s.bob.mustPost(t, map[string]any{"text": "bob here @amy"}).ID
	s.ids["c1"] = s.cat.mustPost(t, map[string]any{"text": "cat says #pecan"}).ID
	s.ids["d1"] = s.dan.mustPost(t, map[string]any{"text": "dan talks to @amy #pecan"}).ID
	s.ids["n1"] = bot.mustPost(t, map[string]any{"text": "news #pecan"}).ID
	s.ids["b2"] = s.bob.mustPost(t, map[string]any{"text": "nice", "reply_to": s.ids["a1"]}).ID
	s.cat.do(t, "PUT", "/v1/posts/"+s.ids["a1"]+"/repost", nil).Expect(t, 201)
	var catPosts []apiPost
	srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@cat/posts?count=1"}).Expect(t, 200).Decode(t, &catPosts)
	s.ids["c2"] = catPosts[0].ID
	s.ids["a2"] = s.amy.mustPost(t, map[string]any{"text": "#Pecan again"}).ID
	s.ids["d2"] = s.dan.mustPost(t, map[string]any{"text": "dan alone"}).ID
	return s
}

// read fetches a stream and names the posts it holds.
func (s *streamScenario) read(t *testing.T, token, path string) ([]string, map[string]any) {
	t.Helper()
	resp := s.srv.Do(t, apptest.Request{Method: "GET", Path: path, Token: token}).Expect(t, 200)
	var list []apiPost
	resp.Decode(t, &list)
	names := make([]string, len(list))
	for i, p := range list {
		names[i] = s.name(p.ID)
	}
	return names, resp.Meta
}

func (s *streamScenario) name(id string) string {
	for n, v := range s.ids {
		if v == id {
			return n
		}
	}
	return "?" + id
}

func TestStreamsScenario(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		s := newStreamScenario(t, b)
		amy, bob, cat := s.amy.graph, s.bob.graph, s.cat.graph
		cases := []struct {
			name, token, path, want string
		}{
			{"global signed out", "", "/v1/posts/streams/global", "d2,a2,c2,b2,d1,c1,b1,a1"},
			{"global hides amy's mutes", amy, "/v1/posts/streams/global", "a2,c2,b2,c1,b1,a1"},
			{"global with muted", amy, "/v1/posts/streams/global?include_muted=1", "d2,a2,c2,b2,d1,c1,b1,a1"},
			{"global hides whom bob blocks", bob, "/v1/posts/streams/global", "d2,a2,b2,d1,b1,a1"},
			{"global hides who blocked cat", cat, "/v1/posts/streams/global", "d2,a2,c2,d1,c1,a1"},
			{"personal", amy, "/v1/posts/streams/me", "a2,c2,b2,c1,b1,a1"},
			{"personal without replies", amy, "/v1/posts/streams/me?include_replies=0", "a2,c2,c1,b1,a1"},
			{"personal of bob", bob, "/v1/posts/streams/me", "b2,b1"},
			{"unified", amy, "/v1/posts/streams/unified", "a2,c2,b2,c1,b1,a1"},
			{"unified with muted", amy, "/v1/posts/streams/unified?include_muted=1", "a2,c2,b2,d1,c1,b1,a1"},
			{"mentions signed out", "", "/v1/users/@amy/mentions", "d1,b1"},
			{"mentions hide mutes", amy, "/v1/users/@amy/mentions", "b1"},
			{"tag", "", "/v1/posts/tags/pecan", "a2,n1,d1,c1,a1"},
			{"tag is normalised", amy, "/v1/posts/tags/PE_CAN", "a2,n1,c1,a1"},
			{"user posts show muted users", amy, "/v1/users/@dan/posts", "d2,d1"},
			{"thread", "", "/v1/posts/" + s.ids["b2"] + "/thread", "b2,a1"},
		}
		for _, tc := range cases {
			got, _ := s.read(t, tc.token, tc.path)
			if strings.Join(got, ",") != tc.want {
				t.Errorf("%s: %v, want %s", tc.name, got, tc.want)
			}
		}
	})
}

func TestStreamPagesBothWays(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		s := newStreamScenario(t, b)
		amy := s.amy.graph
		// For amy these three streams hold the same six posts.
		for _, stream := range []string{"/v1/posts/streams/global", "/v1/posts/streams/me", "/v1/posts/streams/unified"} {
			var pages []string
			before := ""
			for range 3 {
				got, meta := s.read(t, amy, stream+"?count=2"+before)
				pages = append(pages, strings.Join(got, ","))
				before = "&before_id=" + meta["min_id"].(string)
			}
			if strings.Join(pages, " | ") != "a2,c2 | b2,c1 | b1,a1" {
				t.Fatalf("%s newest first: %v", stream, pages)
			}
			pages, since := nil, ""
			for range 3 {
				got, meta := s.read(t, amy, stream+"?count=-2"+since)
				pages = append(pages, strings.Join(got, ","))
				since = "&since_id=" + meta["max_id"].(string)
			}
			if strings.Join(pages, " | ") != "b1,a1 | b2,c1 | a2,c2" {
				t.Fatalf("%s oldest first: %v", stream, pages)
			}
			if _, meta := s.read(t, amy, stream+"?count=-2"+since); meta["more"] != false {
				t.Fatalf("%s: a page past the end says more: %v", stream, meta)
			}
		}
	})
}

// TestEveryStreamPagesBothWays reads each stream whole, then in three
// pages newest first (following before_id) and in three pages oldest first
// (following since_id), and requires the pages to add up to the whole.
func TestEveryStreamPagesBothWays(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		s := newStreamScenario(t, b)
		// A reply in a1's thread that mentions amy and is tagged, a post of
		// bob's to amy, and five bookmarks of amy's in an order of their own.
		s.ids["c3"] = s.cat.mustPost(t, map[string]any{"text": "@amy yes #pecan", "reply_to": s.ids["a1"]}).ID
		s.ids["b3"] = s.bob.mustPost(t, map[string]any{"text": "@amy three"}).ID
		for _, name := range []string{"c1", "a1", "d1", "b1", "a2"} {
			s.amy.do(t, "PUT", "/v1/posts/"+s.ids[name]+"/bookmark", nil).Expect(t, 200)
		}
		amy := s.amy.graph
		for _, tc := range []struct{ path, whole string }{
			{"/v1/posts/streams/global", "b3,c3,a2,c2,b2,c1,b1,a1"},
			{"/v1/posts/streams/me", "b3,c3,a2,c2,b2,c1,b1,a1"},
			{"/v1/posts/streams/unified", "b3,c3,a2,c2,b2,c1,b1,a1"},
			{"/v1/users/@amy/mentions", "b3,c3,b1"},
			{"/v1/posts/tags/pecan", "c3,a2,n1,c1,a1"},
			{"/v1/users/@amy/bookmarks", "a2,b1,d1,a1,c1"},
			{"/v1/users/@cat/posts", "c3,c2,c1"},
			{"/v1/posts/" + s.ids["a1"] + "/thread", "c3,b2,a1"},
		} {
			whole, _ := s.read(t, amy, tc.path+"?count=200")
			if strings.Join(whole, ",") != tc.whole {
				t.Errorf("%s: %v, want %s", tc.path, whole, tc.whole)
				continue
			}
			n := (len(whole) + 2) / 3
			if got := s.threePages(t, amy, tc.path, n); !slices.Equal(got, whole) {
				t.Errorf("%s in pages of %d newest first: %v", tc.path, n, got)
			}
			if got := s.threePages(t, amy, tc.path, -n); !slices.Equal(got, whole) {
				t.Errorf("%s in pages of %d oldest first: %v", tc.path, n, got)
			}
		}
	})
}

// threePages reads three pages of count posts, each bounded by the one
// before (before_id for a positive count, since_id for a negative one),
// checks meta.more on each, and returns the posts newest first.
func (s *streamScenario) threePages(t *testing.T, token, path string, count int) []string {
	t.Helper()
	var all []string
	bound := ""
	for i := range 3 {
		got, meta := s.read(t, token, fmt.Sprintf("%s?count=%d%s", path, count, bound))
		if len(got) == 0 || (i < 2) != (meta["more"] == true) {
			t.Errorf("%s count=%d page %d: %v, meta %v", path, count, i+1, got, meta)
			return nil
		}
		if count > 0 {
			all, bound = append(all, got...), "&before_id="+meta["min_id"].(string)
		} else {
			all, bound = append(got, all...), "&since_id="+meta["max_id"].(string)
		}
	}
	return all
}

func TestStreamErrors(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		amy := newMember(t, srv, "amy")
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/streams/me"}).ExpectError(t, 401, "token_missing")
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/streams/me", Token: amy.token}).ExpectError(t, 403, "scope_missing")
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/streams/global?since_id=abc"}).ExpectError(t, 400, "invalid_pagination")
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/streams/global?count=abc"}).ExpectError(t, 400, "invalid_pagination")
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@amy/followers?count=0", Token: amy.graph}).ExpectError(t, 400, "invalid_pagination")
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@nobody/mentions"}).ExpectError(t, 404, "user_not_found")
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/abc/mentions"}).ExpectError(t, 400, "invalid_user_id")
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/tags/___"}).ExpectError(t, 400, "invalid_tag")
	})
}

func TestBookmarkStream(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		amy, bob := newMember(t, srv, "amy"), newMember(t, srv, "bob")
		first := bob.mustPost(t, map[string]any{"text": "first"})
		second := bob.mustPost(t, map[string]any{"text": "second"})
		// Bookmark the older post last: the stream follows bookmark time.
		amy.do(t, "PUT", "/v1/posts/"+second.ID+"/bookmark", map[string]any{"note": "later"}).Expect(t, 200)
		amy.do(t, "PUT", "/v1/posts/"+first.ID+"/bookmark", map[string]any{"note": "mine"}).Expect(t, 200)
		var list []struct {
			apiPost
			PaginationID string  `json:"pagination_id"`
			Note         *string `json:"note"`
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@amy/bookmarks", Token: amy.graph}).Expect(t, 200).Decode(t, &list)
		if len(list) != 2 || list[0].ID != first.ID || list[1].ID != second.ID || list[0].Note == nil || *list[0].Note != "mine" || list[0].PaginationID == first.ID {
			t.Fatalf("own bookmarks %+v", list)
		}
		var seen []struct {
			apiPost
			Note *string `json:"note"`
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@amy/bookmarks?count=1&before_id=" + list[0].PaginationID, Token: bob.graph}).Expect(t, 200).Decode(t, &seen)
		if len(seen) != 1 || seen[0].ID != second.ID || seen[0].Note != nil {
			t.Fatalf("someone else's bookmarks %+v", seen)
		}
	})
}

func TestTagPagesSkipMutedAcrossBatches(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		s := newStreamScenario(t, b)
		// Tagged, newest first: a2, n1, d1 (muted by amy), c1, a1.
		var pages []string
		before := ""
		for range 4 {
			got, meta := s.read(t, s.amy.graph, "/v1/posts/tags/pecan?count=1"+before)
			pages = append(pages, strings.Join(got, ",")+fmt.Sprintf("(more=%v)", meta["more"]))
			if len(got) == 0 {
				break
			}
			before = "&before_id=" + meta["min_id"].(string)
		}
		if strings.Join(pages, " ") != "a2(more=true) n1(more=true) c1(more=true) a1(more=false)" {
			t.Fatalf("tag pages %v", pages)
		}
	})
}

// A page that ends while the index still had ids the viewer hides keeps
// the posts it found: the next batch is empty, not a reason to drop them.
func TestTagPageKeepsPostsWhenIndexRunsOut(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		s := newStreamScenario(t, b)
		// Tagged, newest first: a2, n1, d1 (muted by amy), c1, a1.
		for _, tc := range []struct{ query, want string }{
			{"count=2&before_id=" + s.ids["n1"], "c1,a1"},
			{"count=-2&since_id=" + s.ids["c1"], "a2,n1"},
		} {
			got, meta := s.read(t, s.amy.graph, "/v1/posts/tags/pecan?"+tc.query)
			if strings.Join(got, ",") != tc.want || meta["more"] != false {
				t.Errorf("%s: %v (more=%v), want %s and no more", tc.query, got, meta["more"], tc.want)
			}
		}
	})
}

// A repost shows the reposted post, so it hides wherever that post's
// author is hidden: blocks both ways, mutes unless include_muted=1.
func TestRepostsOfHiddenUsers(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		amy, bob, cat, dan := newMember(t, srv, "amy"), newMember(t, srv, "bob"), newMember(t, srv, "cat"), newMember(t, srv, "dan")
		bob.act(t, "PUT", "/v1/users/@amy/follow").Expect(t, 200)
		bob.act(t, "PUT", "/v1/users/@cat/block").Expect(t, 200)
		bob.act(t, "PUT", "/v1/users/@dan/mute").Expect(t, 200)
		names := map[string]string{}
		repost := func(name string, of apiPost) {
			var original apiPost
			amy.do(t, "PUT", "/v1/posts/"+of.ID+"/repost", nil).Expect(t, 201).Decode(t, &original)
			var page []apiPost
			srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@amy/posts?count=1"}).Expect(t, 200).Decode(t, &page)
			names[page[0].ID] = name
		}
		repost("amy reposts cat", cat.mustPost(t, map[string]any{"text": "cat writes"}))
		repost("amy reposts dan", dan.mustPost(t, map[string]any{"text": "dan writes"}))
		repost("amy reposts bob", bob.mustPost(t, map[string]any{"text": "bob writes"}))
		names[amy.mustPost(t, map[string]any{"text": "amy writes"}).ID] = "amy"
		read := func(token, path string) string {
			var list []apiPost
			srv.Do(t, apptest.Request{Method: "GET", Path: path, Token: token}).Expect(t, 200).Decode(t, &list)
			var out []string
			for _, p := range list {
				if n, ok := names[p.ID]; ok {
					out = append(out, n)
				}
			}
			return strings.Join(out, ", ")
		}
		for _, tc := range []struct{ who, token, path, want string }{
			{"bob", bob.graph, "/v1/posts/streams/me", "amy, amy reposts bob"},
			{"bob", bob.graph, "/v1/posts/streams/me?include_muted=1", "amy, amy reposts bob, amy reposts dan"},
			{"bob", bob.graph, "/v1/posts/streams/unified", "amy, amy reposts bob"},
			{"bob", bob.graph, "/v1/posts/streams/global", "amy, amy reposts bob"},
			{"bob", bob.graph, "/v1/posts/streams/global?include_muted=1", "amy, amy reposts bob, amy reposts dan"},
			{"cat, whom bob blocks", cat.graph, "/v1/posts/streams/global", "amy, amy reposts dan, amy reposts cat"},
			{"signed out", "", "/v1/posts/streams/global", "amy, amy reposts bob, amy reposts dan, amy reposts cat"},
		} {
			if got := read(tc.token, tc.path); got != tc.want {
				t.Errorf("%s reading %s: %s, want %s", tc.who, tc.path, got, tc.want)
			}
		}
	})
}

func TestDirectedPosts(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		amy, cat := newMember(t, srv, "amy"), newMember(t, srv, "cat")
		newMember(t, srv, "bob")
		newMember(t, srv, "dan")
		amy.act(t, "PUT", "/v1/users/@bob/follow").Expect(t, 200)
		amy.act(t, "PUT", "/v1/users/@cat/follow").Expect(t, 200)
		names := map[string]string{}
		for name, text := range map[string]string{"to dan": "@dan are you there", "to bob": "@bob hi", "to amy": "@amy hey", "about dan": "hi @dan"} {
			names[cat.mustPost(t, map[string]any{"text": text}).ID] = name
		}
		read := func(stream, query string) []string {
			var list []apiPost
			srv.Do(t, apptest.Request{Method: "GET", Path: stream + query, Token: amy.graph}).Expect(t, 200).Decode(t, &list)
			var out []string
			for _, p := range list {
				out = append(out, names[p.ID])
			}
			slices.Sort(out)
			return out
		}
		for _, stream := range []string{"/v1/posts/streams/me", "/v1/posts/streams/unified"} {
			if got := read(stream, ""); len(got) != 4 {
				t.Errorf("%s by default: %v", stream, got)
			}
			if got := strings.Join(read(stream, "?include_directed_posts=0"), ","); got != "about dan,to amy,to bob" {
				t.Errorf("%s without directed posts: %s", stream, got)
			}
		}
	})
}

// standingPost is a post as the standing test reads it: the viewer's
// bookmark and repost, and how they stand with the author.
type standingPost struct {
	ID            string `json:"id"`
	YouBookmarked *bool  `json:"you_bookmarked"`
	YouReposted   *bool  `json:"you_reposted"`
	User          *struct {
		Username   string `json:"username"`
		YouFollow  *bool  `json:"you_follow"`
		FollowsYou *bool  `json:"follows_you"`
		YouMuted   *bool  `json:"you_muted"`
	} `json:"user"`
	RepostOf *standingPost `json:"repost_of"`
}

// standing is what the viewer sees of their standing with a post.
func (p *standingPost) standing() string {
	show := func(b *bool) string {
		if b == nil {
			return "-"
		}
		return fmt.Sprint(*b)
	}
	return fmt.Sprintf("%s: bookmarked %s, reposted %s, @%s: follow %s, follows you %s, muted %s", p.ID,
		show(p.YouBookmarked), show(p.YouReposted), p.User.Username, show(p.User.YouFollow), show(p.User.FollowsYou), show(p.User.YouMuted))
}

// TestStreamPagesCarryTheViewersStanding: a stream page, which reads the
// viewer's standing with a whole page of posts and authors at once, shows
// for every post and reposted original what the post read alone shows;
// and for a few of them, what the viewer did.
func TestStreamPagesCarryTheViewersStanding(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		s := newStreamScenario(t, b)
		s.bob.act(t, "PUT", "/v1/users/@amy/follow").Expect(t, 200)
		s.amy.do(t, "PUT", "/v1/posts/"+s.ids["b1"]+"/bookmark", nil).Expect(t, 200)
		s.amy.do(t, "PUT", "/v1/posts/"+s.ids["c1"]+"/bookmark", nil).Expect(t, 200)
		s.amy.do(t, "PUT", "/v1/posts/"+s.ids["c1"]+"/repost", nil).Expect(t, 201)

		alone := func(id string) string {
			var p standingPost
			s.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/" + id, Token: s.amy.graph}).Expect(t, 200).Decode(t, &p)
			return p.standing()
		}
		seen := map[string]string{}
		for _, path := range []string{
			"/v1/posts/streams/global?include_muted=1", "/v1/posts/streams/me", "/v1/posts/streams/unified",
			"/v1/users/@amy/posts", "/v1/posts/" + s.ids["a1"] + "/thread", "/v1/users/@dan/posts",
		} {
			var page []standingPost
			s.srv.Do(t, apptest.Request{Method: "GET", Path: path, Token: s.amy.graph}).Expect(t, 200).Decode(t, &page)
			for _, p := range page {
				for q := &p; q != nil; q = q.RepostOf {
					if got, want := q.standing(), alone(q.ID); got != want {
						t.Fatalf("%s shows %s, read alone %s", path, got, want)
					}
					seen[s.name(q.ID)] = q.standing()
				}
			}
		}
		for name, want := range map[string]string{
			"b1": "bookmarked true, reposted false, @bob: follow true, follows you true, muted false",
			"c1": "bookmarked true, reposted true, @cat: follow true, follows you false, muted false",
			"d1": "bookmarked false, reposted false, @dan: follow false, follows you false, muted true",
		} {
			if got := seen[name]; !strings.HasSuffix(got, ": "+want) {
				t.Errorf("%s on the pages: %q, want %q", name, got, want)
			}
		}
	})
}
