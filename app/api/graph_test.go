package api_test

import (
	"strings"
	"testing"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

type relUser struct {
	Username   string `json:"username"`
	YouFollow  *bool  `json:"you_follow"`
	FollowsYou *bool  `json:"follows_you"`
	YouMuted   *bool  `json:"you_muted"`
	YouBlocked *bool  `json:"you_blocked"`
	CanFollow  *bool  `json:"you_can_follow"`
	Counts     struct {
		Followers int `json:"followers"`
		Following int `json:"following"`
	} `json:"counts"`
	PaginationID string `json:"pagination_id"`
}

type member struct {
	poster
	graph string // token with follow scope
}

func newMember(t *testing.T, srv *apptest.Server, name string) member {
	p := newPoster(t, srv, name, models.UserHuman)
	return member{poster: p, graph: srv.Token(t, p.user, models.ScopeFollow, models.ScopeStream, models.ScopeWritePost)}
}

func (m member) act(t *testing.T, method, path string) *apptest.Response {
	t.Helper()
	return m.srv.Do(t, apptest.Request{Method: method, Path: path, Token: m.graph})
}

func TestFollowMuteBlock(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		amy, bob, cat := newMember(t, srv, "amy"), newMember(t, srv, "bob"), newMember(t, srv, "cat")

		var u relUser
		amy.act(t, "PUT", "/v1/users/@bob/follow").Expect(t, 200).Decode(t, &u)
		if !*u.YouFollow || *u.FollowsYou || u.Counts.Followers != 1 {
			t.Fatalf("after follow %+v", u)
		}
		amy.act(t, "PUT", "/v1/users/@bob/follow").Expect(t, 200).Decode(t, &u)
		if u.Counts.Followers != 1 {
			t.Fatalf("following twice counted twice: %+v", u)
		}
		bob.act(t, "PUT", "/v1/users/@amy/follow").Expect(t, 200).Decode(t, &u)
		if !*u.FollowsYou || u.Counts.Following != 1 {
			t.Fatalf("mutual follow %+v", u)
		}
		cat.act(t, "PUT", "/v1/users/@bob/follow").Expect(t, 200)
		amy.act(t, "PUT", "/v1/users/@amy/follow").ExpectError(t, 400, "cannot_target_self")
		srv.Do(t, apptest.Request{Method: "PUT", Path: "/v1/users/@bob/follow", Token: amy.token}).ExpectError(t, 403, "scope_missing")
		amy.act(t, "PUT", "/v1/users/@nobody/follow").ExpectError(t, 404, "user_not_found")

		var followers []relUser
		resp := amy.act(t, "GET", "/v1/users/@bob/followers?count=1").Expect(t, 200)
		resp.Decode(t, &followers)
		if len(followers) != 1 || followers[0].Username != "cat" || resp.Meta["more"] != true || followers[0].PaginationID == "" {
			t.Fatalf("first follower page %+v %v", followers, resp.Meta)
		}
		amy.act(t, "GET", "/v1/users/@bob/followers?count=1&before_id="+followers[0].PaginationID).Expect(t, 200).Decode(t, &followers)
		if len(followers) != 1 || followers[0].Username != "amy" {
			t.Fatalf("second follower page %+v", followers)
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@bob/followers"}).ExpectError(t, 401, "token_missing")

		amy.act(t, "PUT", "/v1/users/@cat/mute").Expect(t, 200).Decode(t, &u)
		if !*u.YouMuted {
			t.Fatalf("mute %+v", u)
		}
		var muted []relUser
		amy.act(t, "GET", "/v1/users/me/muted").Expect(t, 200).Decode(t, &muted)
		if len(muted) != 1 || muted[0].Username != "cat" {
			t.Fatalf("muted list %+v", muted)
		}
		amy.act(t, "DELETE", "/v1/users/@cat/mute").Expect(t, 200).Decode(t, &u)
		if *u.YouMuted {
			t.Fatalf("unmute %+v", u)
		}

		// A block ends follows both ways and stops new ones either way.
		bob.act(t, "PUT", "/v1/users/@amy/block").Expect(t, 200).Decode(t, &u)
		if !*u.YouBlocked || *u.YouFollow || *u.FollowsYou || *u.CanFollow {
			t.Fatalf("block %+v", u)
		}
		amy.act(t, "GET", "/v1/users/@amy").Expect(t, 200).Decode(t, &u)
		if u.Counts.Following != 0 || u.Counts.Followers != 0 {
			t.Fatalf("counts after block %+v", u.Counts)
		}
		amy.act(t, "PUT", "/v1/users/@bob/follow").ExpectError(t, 403, "blocked")
		bob.act(t, "PUT", "/v1/users/@amy/follow").ExpectError(t, 403, "blocked")
		var blocked []relUser
		bob.act(t, "GET", "/v1/users/me/blocked").Expect(t, 200).Decode(t, &blocked)
		if len(blocked) != 1 || blocked[0].Username != "amy" {
			t.Fatalf("blocked list %+v", blocked)
		}
		bob.act(t, "DELETE", "/v1/users/@amy/block").Expect(t, 200)
		amy.act(t, "PUT", "/v1/users/@bob/follow").Expect(t, 200)
	})
}

func TestConcurrentFollowsCountOnce(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		amy, _ := newMember(t, srv, "amy"), newMember(t, srv, "bob")
		statuses, _ := fire(t, srv, 12, apptest.Request{Method: "PUT", Path: "/v1/users/@bob/follow", Token: amy.graph})
		if statuses[200] != 12 {
			t.Fatalf("statuses %v", statuses)
		}
		var u relUser
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@bob"}).Expect(t, 200).Decode(t, &u)
		if u.Counts.Followers != 1 {
			t.Fatalf("followers %d after 12 racing follows", u.Counts.Followers)
		}
	})
}

// A negative count pages relation lists oldest first, as pnut streams do:
// the oldest within the bounds, still shown newest first.
func TestRelationListsPageOldestFirst(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		amy := newMember(t, srv, "amy")
		// A block ends follows, so amy follows, mutes and blocks apart.
		for _, name := range []string{"bob", "cat", "dan"} {
			newMember(t, srv, name).act(t, "PUT", "/v1/users/@amy/follow").Expect(t, 200)
			amy.act(t, "PUT", "/v1/users/@"+name+"/follow").Expect(t, 200)
		}
		for _, name := range []string{"eve", "fay", "gus"} {
			newMember(t, srv, name)
			amy.act(t, "PUT", "/v1/users/@"+name+"/mute").Expect(t, 200)
		}
		for _, name := range []string{"hal", "ida", "jon"} {
			newMember(t, srv, name)
			amy.act(t, "PUT", "/v1/users/@"+name+"/block").Expect(t, 200)
		}
		read := func(path string) (string, map[string]any) {
			t.Helper()
			var list []relUser
			resp := amy.act(t, "GET", path).Expect(t, 200)
			resp.Decode(t, &list)
			var names []string
			for _, u := range list {
				names = append(names, u.Username)
			}
			return strings.Join(names, ","), resp.Meta
		}
		for _, tc := range []struct{ list, oldest, rest, newest string }{
			{"/v1/users/@amy/followers", "cat,bob", "dan", "dan,cat"},
			{"/v1/users/@amy/following", "cat,bob", "dan", "dan,cat"},
			{"/v1/users/me/muted", "fay,eve", "gus", "gus,fay"},
			{"/v1/users/me/blocked", "ida,hal", "jon", "jon,ida"},
		} {
			got, meta := read(tc.list + "?count=-2")
			if got != tc.oldest || meta["more"] != true {
				t.Errorf("%s oldest two: %s (more=%v), want %s and more", tc.list, got, meta["more"], tc.oldest)
				continue
			}
			if got, meta = read(tc.list + "?count=-2&since_id=" + meta["max_id"].(string)); got != tc.rest || meta["more"] != false {
				t.Errorf("%s after them: %s (more=%v), want %s and no more", tc.list, got, meta["more"], tc.rest)
			}
			if got, _ = read(tc.list + "?count=2"); got != tc.newest {
				t.Errorf("%s newest two: %s, want %s", tc.list, got, tc.newest)
			}
		}
	})
}
