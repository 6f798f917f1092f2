package api_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
)

// globalWithMuted is the global stream with muted authors' posts kept, so every
// author of the scenario shows on it.
const globalWithMuted = "/v1/posts/streams/global?include_muted=1"

// authorStanding is how the viewer of path stands with the author of the
// post named name on it, as standingPost shows it.
func (s *streamScenario) authorStanding(t *testing.T, srv *apptest.Server, viewer member, path, name string) string {
	t.Helper()
	var page []standingPost
	srv.Do(t, apptest.Request{Method: "GET", Path: path, Token: viewer.graph}).Expect(t, 200).Decode(t, &page)
	for _, p := range page {
		if p.ID == s.ids[name] {
			return fmt.Sprintf("follow %v, follows you %v, muted %v", *p.User.YouFollow, *p.User.FollowsYou, *p.User.YouMuted)
		}
	}
	t.Fatalf("%s is not on %s", name, path)
	return ""
}

// TestPagesShowRelationChangesAtOnce: the relations a page shows are
// remembered per reader, and every follow, mute and block, made by the
// reader or by the author, shows on the very next page.
func TestPagesShowRelationChangesAtOnce(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		s := newStreamScenario(t, b)
		for _, step := range []struct {
			change       func()
			author, want string
		}{
			{func() {}, "c1", "follow true, follows you false, muted false"},
			{func() { s.amy.act(t, "DELETE", "/v1/users/@cat/follow").Expect(t, 200) }, "c1", "follow false, follows you false, muted false"},
			{func() { s.cat.act(t, "PUT", "/v1/users/@amy/follow").Expect(t, 200) }, "c1", "follow false, follows you true, muted false"},
			{func() { s.amy.act(t, "PUT", "/v1/users/@cat/mute").Expect(t, 200) }, "c1", "follow false, follows you true, muted true"},
			{func() {}, "d1", "follow false, follows you false, muted true"},
			{func() { s.amy.act(t, "DELETE", "/v1/users/@dan/mute").Expect(t, 200) }, "d1", "follow false, follows you false, muted false"},
			{func() { s.amy.act(t, "PUT", "/v1/users/@dan/follow").Expect(t, 200) }, "d1", "follow true, follows you false, muted false"},
			// dan's block ends amy's follow of him; unblocked, it stays ended.
			{func() {
				s.dan.act(t, "PUT", "/v1/users/@amy/block").Expect(t, 200)
				s.dan.act(t, "DELETE", "/v1/users/@amy/block").Expect(t, 200)
			}, "d1", "follow false, follows you false, muted false"},
		} {
			step.change()
			if got := s.authorStanding(t, s.srv, s.amy, globalWithMuted, step.author); got != step.want {
				t.Fatalf("%s's author as amy sees them: %s, want %s", step.author, got, step.want)
			}
		}
		// A blocked user's posts leave the pages; their profile shows it.
		for _, block := range []struct {
			method string
			want   bool
		}{{"GET", false}, {"PUT", true}, {"GET", true}, {"DELETE", false}} {
			if block.method != "GET" {
				s.amy.act(t, block.method, "/v1/users/@cat/block").Expect(t, 200)
			}
			var cat relUser
			s.amy.act(t, "GET", "/v1/users/@cat").Expect(t, 200).Decode(t, &cat)
			if *cat.YouBlocked != block.want {
				t.Fatalf("after %s block amy sees you_blocked %v for cat", block.method, *cat.YouBlocked)
			}
		}
	})
}

// followByHand makes follower follow followee in the database, behind the
// server's back, as an operator's SQL would.
func followByHand(t *testing.T, srv *apptest.Server, follower, followee member) {
	t.Helper()
	_, err := srv.App.DB.Bun.NewRaw("INSERT INTO follows (follower_id, followee_id, created_at) VALUES (?, ?, ?)",
		follower.user.ID, followee.user.ID, srv.Clock.Now().UTC()).Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
}

// TestRelationsAreRememberedForTheirTTL: what the pages show of a reader's
// relations is remembered, so a change no notice tells of (made in the
// database by hand) shows once http.relation_cache_ttl has passed; with
// the cache off, at once.
func TestRelationsAreRememberedForTheirTTL(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		s := newStreamScenario(t, b)
		before, after := "follow true, follows you false, muted false", "follow true, follows you true, muted false"
		if got := s.authorStanding(t, s.srv, s.amy, globalWithMuted, "c1"); got != before {
			t.Fatalf("amy sees cat as %s, want %s", got, before)
		}
		followByHand(t, s.srv, s.cat, s.amy)
		if got := s.authorStanding(t, s.srv, s.amy, globalWithMuted, "c1"); got != before {
			t.Fatalf("right after the change by hand amy sees cat as %s, want what was remembered: %s", got, before)
		}
		s.srv.Clock.Advance(config.Default().HTTP.RelationCacheTTL)
		if got := s.authorStanding(t, s.srv, s.amy, globalWithMuted, "c1"); got != after {
			t.Fatalf("a ttl after the change by hand amy sees cat as %s, want %s", got, after)
		}

		off := apptest.Start(t, testenv.New(t, b.Name), func(c *config.Config) { c.RateLimits.Enabled = false; c.HTTP.RelationCacheTTL = 0 })
		amy, cat := newMember(t, off, "amy"), newMember(t, off, "cat")
		amy.act(t, "PUT", "/v1/users/@cat/follow").Expect(t, 200)
		var u relUser
		amy.act(t, "GET", "/v1/users/@cat").Expect(t, 200).Decode(t, &u)
		followByHand(t, off, cat, amy)
		amy.act(t, "GET", "/v1/users/@cat").Expect(t, 200).Decode(t, &u)
		if !*u.FollowsYou {
			t.Fatal("with the cache off, a follow made by hand does not show at once")
		}
	})
}

// TestRelationChangesReachEveryReplica: a follow made on one replica shows
// on the other's pages at once, though it remembers relations for an hour.
func TestRelationChangesReachEveryReplica(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		if b.RedisURL == "" {
			t.Skip("replicas hear of changes through Redis; this backend has none (" + testenv.RedisURLEnv + " pairs it with PostgreSQL)")
		}
		s := newStreamScenario(t, b)
		second := apptest.Start(t, b, func(c *config.Config) { c.HTTP.RelationCacheTTL = time.Hour })
		apptest.WaitForReplicas(t, b, 2)
		s.authorStanding(t, second, s.amy, globalWithMuted, "b1") // remembered there now

		s.amy.act(t, "DELETE", "/v1/users/@bob/follow").Expect(t, 200)
		want := "follow false, follows you false, muted false"
		deadline := time.Now().Add(5 * time.Second)
		for got := ""; got != want; time.Sleep(10 * time.Millisecond) {
			if got = s.authorStanding(t, second, s.amy, globalWithMuted, "b1"); got != want && time.Now().After(deadline) {
				t.Fatalf("5 s after amy unfollowed bob on one replica, the other shows %s", got)
			}
		}
	})
}

// TestReadsDuringFollowsKeepNoOldRelation: while many requests read the
// reader's pages at once, each follow and unfollow still shows on the
// next page. (That a page read before a change cannot be remembered after
// it is the graph package's TestRelationCacheForgetsWhatWasReadBeforeAForget:
// the window is too narrow for requests to hit reliably.)
func TestReadsDuringFollowsKeepNoOldRelation(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		s := newStreamScenario(t, b)
		stop, failed := make(chan struct{}), make(chan string, 6)
		var readers sync.WaitGroup
		for range 6 {
			readers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					res, err := s.srv.Send(apptest.Request{Method: "GET", Path: globalWithMuted, Token: s.amy.graph})
					if err != nil || res.Status != 200 {
						failed <- fmt.Sprintf("a page read alongside: %v %v", res, err)
						return
					}
				}
			})
		}
		for i := range 10 {
			method, want := "PUT", "follow true, follows you false, muted false"
			if i%2 == 1 {
				method, want = "DELETE", "follow false, follows you false, muted false"
			}
			s.amy.act(t, method, "/v1/users/@cat/follow").Expect(t, 200)
			if got := s.authorStanding(t, s.srv, s.amy, globalWithMuted, "c1"); got != want {
				close(stop)
				readers.Wait()
				t.Fatalf("after %s follow number %d amy sees cat as %s, want %s", method, i, got, want)
			}
		}
		close(stop)
		readers.Wait()
		select {
		case msg := <-failed:
			t.Fatal(msg)
		default:
		}
	})
}
