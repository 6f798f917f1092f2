package federation_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// localFederation lets test servers on loopback reach each other, over
// http: the only mode in which Pecan allows either.
func localFederation(c *config.Config) {
	c.Scheme = "http"
	c.Delivery.AllowPrivateAddresses = true
	c.RateLimits.Enabled = false
}

// account is a user on one of the servers, with a token for everything.
type account struct {
	srv   *apptest.Server
	user  *models.User
	token string
}

func newAccount(t *testing.T, srv *apptest.Server, name string) account {
	u := srv.CreateUser(t, name, models.UserHuman)
	tok := srv.Token(t, u, models.ScopeStream, models.ScopeWritePost, models.ScopeFollow)
	return account{srv: srv, user: u, token: tok}
}

func (a account) call(t *testing.T, method, path string, body any) *apptest.Response {
	t.Helper()
	return a.srv.Do(t, apptest.Request{Method: method, Path: path, Token: a.token, Body: body})
}

// handle is the account's full handle, as the other server names it.
func (a account) handle() string { return a.user.Username + "@" + a.srv.Addr() }

type post struct {
	ID        string `json:"id"`
	ReplyTo   string `json:"reply_to"`
	IsDeleted bool   `json:"is_deleted"`
	IsRevised bool   `json:"is_revised"`
	Revision  *int   `json:"revision"`
	User      struct {
		Username string `json:"username"`
	} `json:"user"`
	Content *struct {
		Text     string          `json:"text"`
		HTML     string          `json:"html"`
		Entities models.Entities `json:"entities"`
	} `json:"content"`
	Counts struct {
		Replies, Reposts, Bookmarks int
	} `json:"counts"`
}

type user struct {
	Username  string `json:"username"`
	YouFollow *bool  `json:"you_follow"`
	Counts    struct {
		Followers, Following, Posts int
	} `json:"counts"`
}

func (a account) posts(t *testing.T, path string) []post {
	t.Helper()
	var out []post
	a.call(t, "GET", path, nil).Expect(t, 200).Decode(t, &out)
	return out
}

func (a account) postByText(t *testing.T, path, text string) (post, bool) {
	for _, p := range a.posts(t, path) {
		if p.Content != nil && p.Content.Text == text {
			return p, true
		}
	}
	return post{}, false
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

// TestTwoPecansFederate runs two Pecan servers, A and B, in one process:
// bob on B follows alice on A by her handle, and everything either does
// reaches the other side through signed deliveries.
func TestTwoPecansFederate(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		serverA := apptest.Start(t, b, localFederation)
		serverB := apptest.Start(t, testenv.New(t, b.Name), localFederation)
		alice, bob := newAccount(t, serverA, "alice"), newAccount(t, serverB, "bob")

		// bob follows alice by handle; A accepts; B records the follow.
		var u user
		bob.call(t, "PUT", "/v1/users/@"+alice.handle()+"/follow", nil).Expect(t, 200).Decode(t, &u)
		if u.Username != alice.handle() {
			t.Fatalf("followed %q, want %q", u.Username, alice.handle())
		}
		eventually(t, "A accepts bob's follow", func() bool {
			var got user
			bob.call(t, "GET", "/v1/users/@"+alice.handle(), nil).Expect(t, 200).Decode(t, &got)
			return got.YouFollow != nil && *got.YouFollow
		})
		alice.call(t, "GET", "/v1/users/me", nil).Expect(t, 200).Decode(t, &u)
		if u.Counts.Followers != 1 {
			t.Fatalf("alice has %d followers on A, want 1", u.Counts.Followers)
		}

		// A second follower on B: A still sends each activity to B once,
		// at its shared inbox.
		carl := newAccount(t, serverB, "carl")
		carl.call(t, "PUT", "/v1/users/@"+alice.handle()+"/follow", nil).Expect(t, 200)
		eventually(t, "A accepts carl's follow", func() bool {
			alice.call(t, "GET", "/v1/users/me", nil).Expect(t, 200).Decode(t, &u)
			return u.Counts.Followers == 2
		})

		// alice posts: it reaches bob's personal stream on B.
		original := "Hello from A #pecan https://pecan.example/docs"
		sent := alice.call(t, "POST", "/v1/posts", map[string]any{"text": original})
		sent.Expect(t, 201)
		var onA post
		sent.Decode(t, &onA)
		var onB post
		eventually(t, "alice's post reaches B", func() bool {
			var ok bool
			onB, ok = bob.postByText(t, "/v1/posts/streams/me", original)
			return ok
		})
		if onB.User.Username != alice.handle() || len(onB.Content.Entities.Tags) != 1 || len(onB.Content.Entities.Links) != 1 {
			t.Fatalf("alice's post on B: %+v", onB)
		}
		var sentTo []string
		err := serverA.App.DB.Bun.NewSelect().Table("deliveries").Column("target_url").
			Where("kind = ? AND event = ?", models.DeliveryActivityPub, models.EventPostCreated).Scan(t.Context(), &sentTo)
		if err != nil || len(sentTo) != 1 || sentTo[0] != serverB.URL+"/inbox" {
			t.Fatalf("the Create went to %v (%v), want B's shared inbox once", sentTo, err)
		}
		carl.call(t, "DELETE", "/v1/users/@"+alice.handle()+"/follow", nil).Expect(t, 200)

		// alice revises it: B shows the revision and keeps the original.
		revised := "Hello again from A #pecan https://pecan.example/docs"
		serverA.Clock.Advance(10 * time.Second) // an edit comes a while after the post
		alice.call(t, "PUT", "/v1/posts/"+onA.ID, map[string]any{"text": revised}).Expect(t, 201)
		eventually(t, "the revision reaches B", func() bool {
			var got post
			bob.call(t, "GET", "/v1/posts/"+onB.ID, nil).Expect(t, 200).Decode(t, &got)
			return got.IsRevised && got.Content.Text == revised
		})
		revisions := bob.posts(t, "/v1/posts/"+onB.ID+"/revisions")
		if len(revisions) != 1 || revisions[0].Content.Text != original {
			t.Fatalf("revisions on B: %+v", revisions)
		}

		// bob replies, reposts and bookmarks on B: A sees all three.
		reply := fmt.Sprintf("@%s nice one", alice.handle())
		bob.call(t, "POST", "/v1/posts", map[string]any{"text": reply, "reply_to": onB.ID}).Expect(t, 201)
		bob.call(t, "PUT", "/v1/posts/"+onB.ID+"/repost", nil).Expect(t, 201)
		bob.call(t, "PUT", "/v1/posts/"+onB.ID+"/bookmark", nil).Expect(t, 200)
		eventually(t, "the reply, repost and bookmark reach A", func() bool {
			var got post
			alice.call(t, "GET", "/v1/posts/"+onA.ID, nil).Expect(t, 200).Decode(t, &got)
			return got.Counts.Replies == 1 && got.Counts.Reposts == 1 && got.Counts.Bookmarks == 1
		})
		// A bookmark taken back and made again counts again on A.
		bookmarks := func(want int) func() bool {
			return func() bool {
				var got post
				alice.call(t, "GET", "/v1/posts/"+onA.ID, nil).Expect(t, 200).Decode(t, &got)
				return got.Counts.Bookmarks == want
			}
		}
		bob.call(t, "DELETE", "/v1/posts/"+onB.ID+"/bookmark", nil).Expect(t, 200)
		eventually(t, "the Undo Like reaches A", bookmarks(0))
		bob.call(t, "PUT", "/v1/posts/"+onB.ID+"/bookmark", nil).Expect(t, 200)
		eventually(t, "the second Like reaches A", bookmarks(1))

		thread := alice.posts(t, "/v1/posts/"+onA.ID+"/thread")
		if len(thread) != 2 || thread[0].Content.Text != reply || thread[0].ReplyTo != onA.ID || thread[0].User.Username != bob.handle() {
			t.Fatalf("thread on A: %+v", thread)
		}

		// bob's mention of alice reaches her mentions stream on A.
		mention := fmt.Sprintf("thinking of @%s today", alice.handle())
		bob.call(t, "POST", "/v1/posts", map[string]any{"text": mention}).Expect(t, 201)
		eventually(t, "the mention reaches alice", func() bool {
			_, ok := alice.postByText(t, "/v1/users/me/mentions", mention)
			return ok
		})

		// alice deletes her post: it is deleted on B too.
		alice.call(t, "DELETE", "/v1/posts/"+onA.ID, nil).Expect(t, 200)
		eventually(t, "the delete reaches B", func() bool {
			var got post
			bob.call(t, "GET", "/v1/posts/"+onB.ID, nil).Expect(t, 200).Decode(t, &got)
			return got.IsDeleted && got.Content == nil
		})

		// bob unfollows: A drops the follow and sends him nothing more.
		bob.call(t, "DELETE", "/v1/users/@"+alice.handle()+"/follow", nil).Expect(t, 200)
		eventually(t, "A drops bob's follow", func() bool {
			alice.call(t, "GET", "/v1/users/me", nil).Expect(t, 200).Decode(t, &u)
			return u.Counts.Followers == 0
		})
		after := "Nobody on B should see this"
		alice.call(t, "POST", "/v1/posts", map[string]any{"text": after}).Expect(t, 201)
		depths, err := serverA.App.DB.QueueDepths(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range depths {
			if d.Kind == string(models.DeliveryActivityPub) && d.Status == string(models.DeliveryPending) && d.Count > 0 {
				t.Fatalf("A queued %d activities after the unfollow", d.Count)
			}
		}
		time.Sleep(200 * time.Millisecond)
		if _, ok := bob.postByText(t, "/v1/posts/streams/global", after); ok {
			t.Fatal("a post made after the unfollow reached B")
		}
		assertNoFailedDeliveries(t, serverA, serverB)
	})
}

// assertNoFailedDeliveries: every activity either server sent was
// accepted by the other.
func assertNoFailedDeliveries(t *testing.T, servers ...*apptest.Server) {
	t.Helper()
	for _, srv := range servers {
		depths, err := srv.App.DB.QueueDepths(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range depths {
			if d.Status == string(models.DeliveryFailed) && d.Count > 0 {
				t.Errorf("%s: %d failed %s deliveries; log:\n%s", srv.Addr(), d.Count, d.Kind, lastLines(srv.Logs(), 30))
			}
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
