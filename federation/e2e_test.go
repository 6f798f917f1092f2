package federation_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/client"
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
	Username   string `json:"username"`
	YouFollow  *bool  `json:"you_follow"`
	FollowsYou *bool  `json:"follows_you"`
	Counts     struct {
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
// reaches the other side through signed deliveries. The accounts act
// through the Go client library, as a bot or an app would.
func TestTwoPecansFederate(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		serverA := apptest.Start(t, b, localFederation)
		serverB := apptest.Start(t, testenv.New(t, b.Name), localFederation)
		alice, bob := newAccount(t, serverA, "alice"), newAccount(t, serverB, "bob")
		a, bb := alice.client(t), bob.client(t)
		follows := func(c *client.Client, handle string) bool {
			u, err := c.User(ctx, "@"+handle)
			return err == nil && u.YouFollow != nil && *u.YouFollow
		}
		followers := func() int64 {
			me, err := a.User(ctx, "me")
			if err != nil {
				t.Fatal(err)
			}
			return me.Counts.Followers
		}

		// bob follows alice by handle; A accepts; B records the follow.
		u, err := bb.Follow(ctx, "@"+alice.handle())
		if err != nil || u.Username != alice.handle() {
			t.Fatalf("followed %+v (%v), want %q", u, err, alice.handle())
		}
		eventually(t, "A accepts bob's follow", func() bool { return follows(bb, alice.handle()) })
		if n := followers(); n != 1 {
			t.Fatalf("alice has %d followers on A, want 1", n)
		}

		// A second follower on B: A still sends each activity to B once,
		// at its shared inbox.
		carl := newAccount(t, serverB, "carl").client(t)
		if _, err := carl.Follow(ctx, "@"+alice.handle()); err != nil {
			t.Fatal(err)
		}
		eventually(t, "A accepts carl's follow", func() bool { return followers() == 2 })

		// alice posts: it reaches bob's personal stream on B.
		original := "Hello from A #pecan https://pecan.example/docs"
		onA, err := a.CreatePost(ctx, client.NewPost{Text: original})
		if err != nil {
			t.Fatal(err)
		}
		var onB *client.Post
		eventually(t, "alice's post reaches B", func() bool {
			onB = findPost(t, bb, client.Personal(), original)
			return onB != nil
		})
		if onB.User.Username != alice.handle() || len(onB.Content.Entities.Tags) != 1 || len(onB.Content.Entities.Links) != 1 {
			t.Fatalf("alice's post on B: %+v", onB)
		}
		var sentTo []string
		err = serverA.App.DB.Bun.NewSelect().Table("deliveries").Column("target_url").
			Where("kind = ? AND event = ?", models.DeliveryActivityPub, models.EventPostCreated).Scan(t.Context(), &sentTo)
		if err != nil || len(sentTo) != 1 || sentTo[0] != serverB.URL+"/inbox" {
			t.Fatalf("the Create went to %v (%v), want B's shared inbox once", sentTo, err)
		}
		if _, err := carl.Unfollow(ctx, "@"+alice.handle()); err != nil {
			t.Fatal(err)
		}

		// alice revises it: B shows the revision and keeps the original.
		revised := "Hello again from A #pecan https://pecan.example/docs"
		serverA.Clock.Advance(10 * time.Second) // an edit comes a while after the post
		if _, err := a.RevisePost(ctx, onA.ID, client.Revision{Text: revised}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the revision reaches B", func() bool {
			got, err := bb.Post(ctx, onB.ID)
			return err == nil && got.IsRevised && got.Text() == revised
		})
		revisions, err := bb.Revisions(ctx, onB.ID)
		if err != nil || len(revisions) != 1 || revisions[0].Text() != original {
			t.Fatalf("revisions on B: %+v (%v)", revisions, err)
		}

		// bob replies, reposts and bookmarks on B: A sees all three.
		reply := fmt.Sprintf("@%s nice one", alice.handle())
		if _, err := bb.CreatePost(ctx, client.NewPost{Text: reply, ReplyTo: onB.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := bb.Repost(ctx, onB.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := bb.Bookmark(ctx, onB.ID, ""); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the reply, repost and bookmark reach A", func() bool {
			got, err := a.Post(ctx, onA.ID)
			return err == nil && got.Counts.Replies == 1 && got.Counts.Reposts == 1 && got.Counts.Bookmarks == 1
		})
		// A bookmark taken back and made again counts again on A.
		bookmarks := func(want int64) func() bool {
			return func() bool {
				got, err := a.Post(ctx, onA.ID)
				return err == nil && got.Counts.Bookmarks == int64(want)
			}
		}
		if _, err := bb.Unbookmark(ctx, onB.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the Undo Like reaches A", bookmarks(0))
		if _, err := bb.Bookmark(ctx, onB.ID, ""); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the second Like reaches A", bookmarks(1))

		thread, err := a.Stream(ctx, client.Thread(onA.ID), client.Page{})
		if err != nil || len(thread.Posts) != 2 || thread.Posts[0].Text() != reply || thread.Posts[0].ReplyTo != onA.ID ||
			thread.Posts[0].User.Username != bob.handle() {
			t.Fatalf("thread on A: %+v (%v)", thread, err)
		}

		// bob's mention of alice reaches her mentions stream on A.
		mention := fmt.Sprintf("thinking of @%s today", alice.handle())
		if _, err := bb.CreatePost(ctx, client.NewPost{Text: mention}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the mention reaches alice", func() bool { return findPost(t, a, client.MentionsOf("me"), mention) != nil })

		// alice deletes her post: it is deleted on B too.
		if _, err := a.DeletePost(ctx, onA.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the delete reaches B", func() bool {
			got, err := bb.Post(ctx, onB.ID)
			return err == nil && got.IsDeleted && got.Content == nil
		})

		// bob unfollows: A drops the follow and sends him nothing more.
		if _, err := bb.Unfollow(ctx, "@"+alice.handle()); err != nil {
			t.Fatal(err)
		}
		eventually(t, "A drops bob's follow", func() bool { return followers() == 0 })
		after := "Nobody on B should see this"
		if _, err := a.CreatePost(ctx, client.NewPost{Text: after}); err != nil {
			t.Fatal(err)
		}
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
		if findPost(t, bb, client.Global(), after) != nil {
			t.Fatal("a post made after the unfollow reached B")
		}
		assertNoFailedDeliveries(t, serverA, serverB)
	})
}

// client is the account's Go API client.
func (a account) client(t *testing.T) *client.Client { return a.srv.Client(t, a.token) }

// findPost is the post with the given text on the first page of a stream.
func findPost(t *testing.T, c *client.Client, s client.Stream, text string) *client.Post {
	t.Helper()
	page, err := c.Stream(context.Background(), s, client.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range page.Posts {
		if page.Posts[i].Text() == text {
			return &page.Posts[i]
		}
	}
	return nil
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
