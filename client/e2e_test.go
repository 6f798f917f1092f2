package client_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/client"
	"github.com/pecan-social/pecan/models"
)

func ptr[T any](v T) *T { return &v }

// TestClientAgainstPecan drives a real server through the library: every
// answer it decodes is also checked against the OpenAPI document.
func TestClientAgainstPecan(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, func(c *config.Config) {
			c.RateLimits.Enabled = false
			c.Delivery.AllowPrivateAddresses = true
		})
		ctx := context.Background()
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		bob := srv.CreateUser(t, "bob", models.UserBot)
		a := srv.Client(t, srv.Token(t, alice, models.ScopeWritePost, models.ScopeStream, models.ScopeFollow,
			models.ScopeUpdateProfile, models.ScopeWebhooks, models.ScopeTokens))
		bb := srv.Client(t, srv.Token(t, bob, models.ScopeWritePost, models.ScopeFollow))

		// Users and the graph.
		if _, err := a.UpdateProfile(ctx, client.ProfileUpdate{Name: ptr("Alice"), Text: ptr("hi there")}); err != nil {
			t.Fatal(err)
		}
		if u, err := bb.Follow(ctx, "@alice"); err != nil || u.YouFollow == nil || !*u.YouFollow || u.Name != "Alice" {
			t.Fatalf("follow: %+v %v", u, err)
		}
		if page, err := a.Followers(ctx, "me", client.Page{}); err != nil || len(page.Users) != 1 || page.Users[0].Username != "bob" {
			t.Fatalf("followers: %+v %v", page, err)
		}
		if users, err := a.Users(ctx, "@bob", "@nobody"); err != nil || len(users) != 1 {
			t.Fatalf("users: %+v %v", users, err)
		}

		// Posts: create (idempotently), reply, revise, repost, bookmark, delete.
		first, err := a.CreatePost(ctx, client.NewPost{Text: "Hello #pecan", IdempotencyKey: "k1"})
		if err != nil {
			t.Fatal(err)
		}
		again, err := a.CreatePost(ctx, client.NewPost{Text: "Hello #pecan", IdempotencyKey: "k1"})
		if err != nil || again.ID != first.ID {
			t.Fatalf("the same idempotency key made %v (%v), want post %s again", again, err, first.ID)
		}
		reply, err := bb.CreatePost(ctx, client.NewPost{Text: "@alice welcome", ReplyTo: first.ID})
		if err != nil || reply.ReplyTo != first.ID || reply.ThreadID != first.ID {
			t.Fatalf("reply %+v %v", reply, err)
		}
		if p, err := a.RevisePost(ctx, first.ID, client.Revision{Text: "Hello, #pecan"}); err != nil || !p.IsRevised {
			t.Fatalf("revise %+v %v", p, err)
		}
		if revs, err := a.Revisions(ctx, first.ID); err != nil || len(revs) != 1 || revs[0].Text() != "Hello #pecan" {
			t.Fatalf("revisions %+v %v", revs, err)
		}
		if p, err := bb.Repost(ctx, first.ID); err != nil || p.ID != first.ID || !*p.YouReposted {
			t.Fatalf("repost %+v %v", p, err)
		}
		if p, err := bb.Bookmark(ctx, first.ID, "for later"); err != nil || p.YouBookmarked == nil || !*p.YouBookmarked {
			t.Fatalf("bookmark %+v %v", p, err)
		}
		if got, err := a.Posts(ctx, first.ID, reply.ID); err != nil || len(got) != 2 || got[0].Counts.Replies != 1 || got[0].Counts.Reposts != 1 {
			t.Fatalf("posts %+v %v", got, err)
		}

		// Streams and paging.
		for i := range 5 {
			if _, err := bb.CreatePost(ctx, client.NewPost{Text: "bot post " + string(rune('a'+i))}); err != nil {
				t.Fatal(err)
			}
		}
		page, err := a.Stream(ctx, client.PostsOf("@bob"), client.Page{Count: 2})
		if err != nil || len(page.Posts) != 2 || !page.Meta.More {
			t.Fatalf("first page %+v %v", page, err)
		}
		older, err := a.Stream(ctx, client.PostsOf("@bob"), page.Older())
		if err != nil || older.Posts[0].ID == page.Posts[0].ID {
			t.Fatalf("older page %+v %v", older, err)
		}
		var all []string
		for p, err := range a.All(ctx, client.PostsOf("@bob"), client.Page{Count: 3}) {
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, p.ID)
		}
		if len(all) != 7 { // five posts, the reply and the repost
			t.Fatalf("walked %d posts: %v", len(all), all)
		}
		newer, err := a.Stream(ctx, client.PostsOf("@bob"), page.Newer())
		if err != nil || len(newer.Posts) != 0 {
			t.Fatalf("nothing is newer than the newest: %+v %v", newer, err)
		}
		if p, err := a.Stream(ctx, client.Tagged("pecan"), client.Page{}); err != nil || len(p.Posts) != 1 {
			t.Fatalf("tag stream %+v %v", p, err)
		}
		if p, err := a.Stream(ctx, client.Unified(), client.Page{Params: url.Values{"include_replies": {"0"}}}); err != nil || len(p.Posts) != 1 || p.Meta.Marker != nil {
			t.Fatalf("unified without replies %+v %v", p, err)
		}
		if p, err := bb.Stream(ctx, client.BookmarksOf("me"), client.Page{}); err != nil || len(p.Posts) != 1 || *p.Posts[0].Note != "for later" {
			t.Fatalf("bookmarks %+v %v", p, err)
		}
		if p, err := a.Stream(ctx, client.Thread(reply.ID), client.Page{}); err != nil || len(p.Posts) != 2 {
			t.Fatalf("thread %+v %v", p, err)
		}

		// Markers.
		markers, err := a.SetMarkers(ctx, client.MarkerUpdate{Name: client.MarkerPersonal, ID: first.ID, Percentage: 40})
		if err != nil || len(markers) != 1 || markers[0].Version != 1 {
			t.Fatalf("markers %+v %v", markers, err)
		}
		_, err = a.SetMarkers(ctx, client.MarkerUpdate{Name: client.MarkerPersonal, ID: reply.ID, Version: ptr(int64(0))})
		if client.ErrorCode(err) != "marker_conflict" {
			t.Fatalf("a stale version: %v", err)
		}
		if p, err := a.Stream(ctx, client.Personal(), client.Page{SinceID: "marker"}); err != nil || p.Meta.Marker == nil || p.Meta.Marker.ID != first.ID {
			t.Fatalf("personal from the marker %+v %v", p, err)
		}

		// Tokens and webhooks.
		tok, err := a.CreateToken(ctx, client.NewToken{Label: "bot", Scopes: []string{"write_post"}})
		if err != nil || tok.Token == "" {
			t.Fatalf("token %+v %v", tok, err)
		}
		if info, err := srv.Client(t, tok.Token).Token(ctx); err != nil || info.User.Username != "alice" {
			t.Fatalf("new token's info %+v %v", info, err)
		}
		hook, err := a.CreateWebhook(ctx, client.NewWebhook{Name: "hook", URL: "http://127.0.0.1:9/hook", Events: []string{client.EventMentionCreated}})
		if err != nil || hook.Secret == "" {
			t.Fatalf("webhook %+v %v", hook, err)
		}
		if d, err := a.TestWebhook(ctx, hook.ID); err != nil || d.Event != client.EventTest {
			t.Fatalf("test delivery %+v %v", d, err)
		}
		if list, err := a.Deliveries(ctx, hook.ID, client.Page{}); err != nil || len(list.Deliveries) != 1 {
			t.Fatalf("deliveries %+v %v", list, err)
		}
		if w, err := a.UpdateWebhook(ctx, hook.ID, client.WebhookUpdate{Name: ptr("renamed")}); err != nil || w.Name != "renamed" || w.Secret != "" {
			t.Fatalf("update %+v %v", w, err)
		}
		if _, err := a.DeleteWebhook(ctx, hook.ID); err != nil {
			t.Fatal(err)
		}

		// Errors carry the server's code and field.
		_, err = a.CreatePost(ctx, client.NewPost{Text: strings.Repeat("é", 300)})
		var e *client.Error
		if !errors.As(err, &e) || e.StatusCode != 400 || e.ErrorCode != "text_too_long" || e.Field != "text" {
			t.Fatalf("too long: %v", err)
		}
		if _, err := bb.DeletePost(ctx, first.ID); client.ErrorCode(err) != "not_yours" {
			t.Fatalf("deleting someone else's post: %v", err)
		}
		if p, err := a.DeletePost(ctx, first.ID); err != nil || !p.IsDeleted || p.Content != nil {
			t.Fatalf("delete %+v %v", p, err)
		}
	})
}
