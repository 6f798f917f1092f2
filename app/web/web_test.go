package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/posts"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

type post struct {
	ID string `json:"id"`
}

// site is a server with a few people and posts on it.
type site struct {
	srv                *apptest.Server
	alice, bob         string // tokens
	hello, reply, nsfw post
	revised, deleted   post
	remoteUser         *models.User
	remotePost         *models.Post
}

// plainHTTP makes the instance's public URL the test server's own, so
// links and redirects on its pages lead back to it.
func plainHTTP(c *config.Config) {
	c.Scheme = "http"
	c.Delivery.AllowPrivateAddresses = true
}

func newSite(t *testing.T, b testenv.Backend, configure ...func(*config.Config)) *site {
	t.Helper()
	srv := apptest.Start(t, b, append([]func(*config.Config){plainHTTP}, configure...)...)
	s := &site{srv: srv}
	alice := srv.CreateUser(t, "alice", models.UserHuman)
	bob := srv.CreateUser(t, "bob", models.UserHuman)
	s.alice = srv.Token(t, alice, models.ScopeWritePost, models.ScopeUpdateProfile)
	s.bob = srv.Token(t, bob, models.ScopeWritePost)
	s.call(t, s.alice, "PATCH", "/v1/users/me", map[string]any{"name": "Alice <Liddell>", "content": map[string]any{"text": "Curious & curiouser"}}, 200, nil)

	s.call(t, s.alice, "POST", "/v1/posts", map[string]any{"text": "Hello @bob, see [the docs](https://docs.example/start) #PecanWeb"}, 201, &s.hello)
	s.call(t, s.bob, "POST", "/v1/posts", map[string]any{"text": "@alice welcome <b>home</b>", "reply_to": s.hello.ID}, 201, &s.reply)
	s.call(t, s.alice, "POST", "/v1/posts", map[string]any{"text": "Spoilers ahead: the cake is a lie #nsfw"}, 201, &s.nsfw)
	s.call(t, s.alice, "POST", "/v1/posts", map[string]any{"text": "Frist post"}, 201, &s.revised)
	srv.Clock.Advance(10 * time.Second)
	s.call(t, s.alice, "PUT", "/v1/posts/"+s.revised.ID, map[string]any{"text": "First post"}, 201, nil)
	s.call(t, s.alice, "POST", "/v1/posts", map[string]any{"text": "Regrettable"}, 201, &s.deleted)
	s.call(t, s.alice, "DELETE", "/v1/posts/"+s.deleted.ID, nil, 200, nil)
	s.call(t, s.bob, "PUT", "/v1/posts/"+s.hello.ID+"/repost", nil, 201, nil)

	s.remoteUser, s.remotePost = remoteAuthor(t, srv)
	return s
}

// remoteAuthor stores a user of another server and one of their posts, as
// federation would.
func remoteAuthor(t *testing.T, srv *apptest.Server) (*models.User, *models.Post) {
	t.Helper()
	ctx := context.Background()
	actor := "https://remote.example/users/rob"
	u := &models.User{
		Username: "rob@remote.example", UsernameKey: "rob@remote.example", Name: "Rob Remote", Type: models.UserHuman,
		Domain: "remote.example", ActorID: &actor, ProfileURL: "https://remote.example/@rob",
		InboxURL: actor + "/inbox", CreatedAt: time.Now(), UpdatedAt: time.Now(),
	}
	if err := srv.App.DB.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	p, _, err := srv.App.Posts.StoreRemote(ctx, u, posts.RemoteNote{
		APID: "https://remote.example/notes/1", URL: "https://remote.example/@rob/1", Text: "Greetings from afar #pecanweb",
		Entities:  models.Entities{Tags: []models.Tag{{Text: "pecanweb", Pos: 19, Len: 9}}},
		CreatedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return u, p
}

func (s *site) call(t *testing.T, token, method, path string, body any, status int, into any) {
	t.Helper()
	r := s.srv.Do(t, apptest.Request{Method: method, Path: path, Token: token, Body: body}).Expect(t, status)
	if into != nil {
		r.Decode(t, into)
	}
}

// page fetches a page as a browser asks for it and checks what every page
// must be: HTML that validates, with no script and a strict CSP.
func (s *site) page(t *testing.T, path string, status int) string {
	t.Helper()
	r := s.srv.Do(t, apptest.Request{Method: "GET", Path: path, Header: http.Header{"Accept": {browserAccept}}}).Expect(t, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("%s: content type %q", path, ct)
	}
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("%s: CSP %q", path, csp)
	}
	if err := checkHTML(r.Body); err != nil {
		t.Fatalf("%s does not validate:\n%v\n%s", path, err, r.Body)
	}
	if strings.Contains(string(r.Body), "<script") {
		t.Fatalf("%s has a script", path)
	}
	return string(r.Body)
}

func mustContain(t *testing.T, what, page string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(page, p) {
			t.Errorf("%s lacks %s", what, p)
		}
	}
}

func mustNotContain(t *testing.T, what, page string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(page, p) {
			t.Errorf("%s shows %s", what, p)
		}
	}
}

// TestProfilePage: a profile shows the person, their posts with mentions,
// tags and links as links, hides NSFW text behind a click, says what was
// revised, leaves out what was deleted, and carries link-preview and
// ActivityPub discovery tags.
func TestProfilePage(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		base := s.srv.URL
		page := s.page(t, "/@alice", 200)
		mustContain(t, "alice's page", page,
			"<h1>Alice &lt;Liddell&gt;</h1>", "@alice@"+s.srv.Addr(), "Curious &amp; curiouser",
			`<a href="`+base+`/@bob" class="u-url mention">@bob</a>`,
			`<a href="`+base+`/tags/pecanweb" class="mention hashtag" rel="tag">#PecanWeb</a>`,
			`href="https://docs.example/start"`,
			`<details class="nsfw">`, `Spoilers ahead`, "First post", `class="revised"`,
			`<meta property="og:title" content="Alice &lt;Liddell&gt; (@alice@`+s.srv.Addr()+`)">`,
			`<meta property="og:description" content="Curious &amp; curiouser">`,
			`<link rel="alternate" type="application/activity+json" href="`+base+`/users/alice">`,
			`<link rel="canonical" href="`+base+`/@alice">`,
			`href="`+base+`/@alice/`+s.hello.ID+`"`,
		)
		mustNotContain(t, "alice's page", page, "Regrettable", "Frist")
		if i, j := strings.Index(page, "<details"), strings.Index(page, "Spoilers ahead"); i < 0 || j < i || strings.Contains(page[i:j], "</details>") {
			t.Error("the NSFW text is not inside the <details>")
		}

		bobs := s.page(t, "/@bob", 200)
		mustContain(t, "bob's page", bobs, "↻", "reposted", "Hello", "welcome &lt;b&gt;home&lt;/b&gt;")

		// The ActivityPub id answers browsers with the same page.
		mustContain(t, "/users/alice", s.page(t, "/users/alice", 200), "<h1>Alice &lt;Liddell&gt;</h1>")
		s.page(t, "/@nobody", 404)
	})
}

// TestPostPage: a post's page shows its thread in order with the post
// marked, is reached at the post's ActivityPub id too, and ActivityPub
// clients still get JSON there; a deleted post answers 410, a post under
// someone else's name 404, and a repost leads to its original.
func TestPostPage(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		base := s.srv.URL
		for _, path := range []string{"/@alice/" + s.hello.ID, "/posts/" + s.hello.ID, "/@ALICE/" + s.hello.ID} {
			page := s.page(t, path, 200)
			mustContain(t, path, page, `<article class="post focus" id="post-`+s.hello.ID+`" aria-current="page">`,
				`id="post-`+s.reply.ID+`"`, "welcome",
				`<meta property="og:description" content="Hello @bob, see the docs [docs.example] #PecanWeb">`,
				`<meta property="og:type" content="article">`,
				`<link rel="alternate" type="application/activity+json" href="`+base+`/posts/`+s.hello.ID+`">`,
				`<link rel="canonical" href="`+base+`/@alice/`+s.hello.ID+`">`)
			if strings.Index(page, `id="post-`+s.hello.ID+`"`) > strings.Index(page, `id="post-`+s.reply.ID+`"`) {
				t.Errorf("%s: the reply comes before the post it answers", path)
			}
		}
		replyPage := s.page(t, "/@bob/"+s.reply.ID, 200)
		mustContain(t, "the reply's page", replyPage, `<article class="post focus" id="post-`+s.reply.ID+`"`, `id="post-`+s.hello.ID+`"`)

		// ActivityPub clients get the Note where browsers get the page.
		for _, accept := range []string{"application/activity+json", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`} {
			r := s.srv.Do(t, apptest.Request{Method: "GET", Path: "/posts/" + s.hello.ID, Header: http.Header{"Accept": {accept}}}).Expect(t, 200)
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/activity+json") || !strings.Contains(string(r.Body), `"type":"Note"`) {
				t.Fatalf("Accept %s: %s %s", accept, r.Header.Get("Content-Type"), r.Body)
			}
			if !strings.Contains(r.Header.Get("Vary"), "Accept") {
				t.Errorf("no Vary: Accept on a negotiated answer")
			}
		}

		nsfw := s.page(t, "/@alice/"+s.nsfw.ID, 200)
		mustContain(t, "the NSFW post's page", nsfw, `<summary>`, `<meta property="og:description" content="A post marked sensitive (NSFW).">`)
		if strings.Contains(nsfw, `content="Spoilers`) {
			t.Error("the NSFW text leaks into the link preview")
		}
		mustContain(t, "the revised post's page", s.page(t, "/@alice/"+s.revised.ID, 200), "First post", `class="revised"`)

		gone := s.page(t, "/@alice/"+s.deleted.ID, 410)
		mustContain(t, "the deleted post's page", gone, "deleted")
		mustNotContain(t, "the deleted post's page", gone, "Regrettable")
		s.page(t, "/posts/"+s.deleted.ID, 410)
		s.page(t, "/@bob/"+s.hello.ID, 404)
		s.page(t, "/@alice/999999", 404)
		s.page(t, "/@alice/nope", 404)

		var reposts []struct {
			ID       string `json:"id"`
			RepostOf *post  `json:"repost_of"`
		}
		s.call(t, "", "GET", "/v1/users/@bob/posts", nil, 200, &reposts)
		r := s.srv.Do(t, apptest.Request{Method: "GET", Path: "/@bob/" + reposts[0].ID})
		if reposts[0].RepostOf == nil || r.Status != 200 || !strings.Contains(string(r.Body), `aria-current="page"`) {
			t.Fatalf("a repost's page: %d, repost %+v", r.Status, reposts[0])
		}
	})
}

// TestTagHomeAndRemotePages: a tag's page lists its posts from here and
// elsewhere; the home page lists this instance's own; a remote user's page
// sends visitors to their home server.
func TestTagHomeAndRemotePages(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		tag := s.page(t, "/tags/PecanWeb", 200)
		mustContain(t, "the tag page", tag, "<h1>#pecanweb</h1>", `id="post-`+s.hello.ID+`"`, "Greetings from afar")

		home := s.page(t, "/", 200)
		mustContain(t, "the home page", home, s.srv.Addr()+" is a <strong>Pecan</strong> server", `href="/docs"`,
			`id="post-`+s.hello.ID+`"`, `id="post-`+s.reply.ID+`"`)
		mustNotContain(t, "the home page", home, "Greetings from afar", "Regrettable")

		rob := s.page(t, "/@rob@remote.example", 200)
		mustContain(t, "rob's page", rob, "Rob Remote", "@rob@remote.example", `href="https://remote.example/@rob"`,
			`<link rel="alternate" type="application/activity+json" href="https://remote.example/users/rob">`, "Greetings from afar")
		robsPost := s.page(t, fmt.Sprintf("/@rob@remote.example/%d", s.remotePost.ID), 200)
		mustContain(t, "rob's post", robsPost, `href="https://remote.example/@rob/1"`,
			`<link rel="alternate" type="application/activity+json" href="https://remote.example/notes/1">`)
	})
}

// TestPagesPage: long profiles page backwards with before_id.
func TestPagesPage(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, plainHTTP, func(c *config.Config) { c.RateLimits.Enabled = false })
		u := srv.CreateUser(t, "prolific", models.UserBot)
		tok := srv.Token(t, u, models.ScopeWritePost)
		var ids []string
		for i := range 25 {
			var p post
			srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/posts", Token: tok, Body: map[string]any{"text": fmt.Sprintf("post number %d", i)}}).Expect(t, 201).Decode(t, &p)
			ids = append(ids, p.ID)
		}
		s := &site{srv: srv}
		first := s.page(t, "/@prolific", 200)
		mustContain(t, "page 1", first, "post number 24", "post number 5", `rel="next"`, `href="`+srv.URL+`/@prolific?before_id=`+ids[5]+`"`)
		mustNotContain(t, "page 1", first, "post number 4<")
		second := s.page(t, "/@prolific?before_id="+ids[5], 200)
		mustContain(t, "page 2", second, "post number 4", "post number 0")
		mustNotContain(t, "page 2", second, "post number 5", `rel="next"`)
		s.page(t, "/@prolific?before_id=soon", 400)
	})
}

// TestPagesAreRateLimited: pages count against a visitor's reads and say
// so in HTML; the stylesheet does not count.
func TestPagesAreRateLimited(t *testing.T) {
	srv := apptest.Start(t, testenv.New(t, "sqlite"), func(c *config.Config) {
		c.RateLimits.UnauthenticatedReads = config.Rate{Count: 2, Period: time.Hour}
	})
	for range 5 {
		srv.Do(t, apptest.Request{Method: "GET", Path: "/static/pecan.css"}).Expect(t, 200)
	}
	srv.Do(t, apptest.Request{Method: "GET", Path: "/"}).Expect(t, 200)
	srv.Do(t, apptest.Request{Method: "GET", Path: "/"}).Expect(t, 200)
	r := srv.Do(t, apptest.Request{Method: "GET", Path: "/"}).Expect(t, 429)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || r.Header.Get("Retry-After") == "" {
		t.Fatalf("429 page: %s, Retry-After %q", r.Header.Get("Content-Type"), r.Header.Get("Retry-After"))
	}
}

// TestDocsPage: the API reference is a valid page whose only scripts are
// Swagger UI's files, served from this server.
func TestDocsPage(t *testing.T) {
	srv := apptest.Start(t, testenv.New(t, "sqlite"))
	r := srv.Do(t, apptest.Request{Method: "GET", Path: "/docs"}).Expect(t, 200)
	if err := checkHTML(r.Body); err != nil {
		t.Fatalf("/docs does not validate: %v", err)
	}
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "connect-src 'self'") {
		t.Fatalf("/docs CSP %q", csp)
	}
	mustContain(t, "/docs", string(r.Body), `<script src="/docs/swagger-ui-bundle.js"></script>`, `<script src="/docs/docs.js"></script>`)
	for _, f := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "docs.js", "LICENSE"} {
		srv.Do(t, apptest.Request{Method: "GET", Path: "/docs/" + f}).Expect(t, 200)
	}
	srv.Do(t, apptest.Request{Method: "GET", Path: "/docs/web.go"}).Expect(t, 404)
	srv.Do(t, apptest.Request{Method: "GET", Path: "/docs/README.md"}).Expect(t, 404)
}
