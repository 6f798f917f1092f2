package api_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
)

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
		const global = "/v1/posts/streams/global?include_muted=1"
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
			if got := s.authorStanding(t, s.srv, s.amy, global, step.author); got != step.want {
				t.Fatalf("%s's author as amy sees them: %s, want %s", step.author, got, step.want)
			}
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
		const global = "/v1/posts/streams/global?include_muted=1"
		s.authorStanding(t, second, s.amy, global, "b1") // remembered there now

		s.amy.act(t, "DELETE", "/v1/users/@bob/follow").Expect(t, 200)
		want := "follow false, follows you false, muted false"
		deadline := time.Now().Add(5 * time.Second)
		for got := ""; got != want; time.Sleep(10 * time.Millisecond) {
			if got = s.authorStanding(t, second, s.amy, global, "b1"); got != want && time.Now().After(deadline) {
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
		const global = "/v1/posts/streams/global?include_muted=1"
		stop := make(chan struct{})
		var readers sync.WaitGroup
		for range 6 {
			readers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						s.srv.Do(t, apptest.Request{Method: "GET", Path: global, Token: s.amy.graph}).Expect(t, 200)
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
			if got := s.authorStanding(t, s.srv, s.amy, global, "c1"); got != want {
				close(stop)
				readers.Wait()
				t.Fatalf("after %s follow number %d amy sees cat as %s, want %s", method, i, got, want)
			}
		}
		close(stop)
		readers.Wait()
	})
}
