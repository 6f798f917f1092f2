package api_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/models"
)

// revokeElsewhere revokes a token the way another replica would: in the
// database, without this server hearing of it.
func revokeElsewhere(t *testing.T, srv *apptest.Server, raw string) {
	t.Helper()
	_, err := srv.App.DB.Bun.NewUpdate().Table("tokens").Set("revoked_at = ?", srv.Clock.Now().UTC()).
		Where("hash = ?", tokens.Hash(raw)).Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
}

// TestTokenCacheTrustsATokenForItsTTL: a token revoked on another replica
// keeps working here for http.token_cache_ttl at most; with the cache off,
// not at all.
func TestTokenCacheTrustsATokenForItsTTL(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, func(c *config.Config) { c.HTTP.TokenCacheTTL = 5 * time.Second })
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		tok := srv.Token(t, alice)
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok}).Expect(t, 200)

		revokeElsewhere(t, srv, tok)
		srv.Clock.Advance(4 * time.Second)
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok}).Expect(t, 200)
		srv.Clock.Advance(time.Second)
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok}).ExpectError(t, 401, "invalid_token")

		uncached := apptest.Start(t, b, func(c *config.Config) { c.HTTP.TokenCacheTTL = 0 })
		carol := uncached.CreateUser(t, "carol", models.UserHuman)
		tok = uncached.Token(t, carol)
		uncached.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok}).Expect(t, 200)
		revokeElsewhere(t, uncached, tok)
		uncached.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok}).ExpectError(t, 401, "invalid_token")
	})
}

// TestCachedTokenShowsFreshCounts: the user a cached token carries is not
// what /users/me shows; that is read afresh.
func TestCachedTokenShowsFreshCounts(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b)
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		tok := srv.Token(t, alice, models.ScopeWritePost)
		var me apiUser
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/me", Token: tok}).Expect(t, 200).Decode(t, &me)
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/posts", Token: tok, Body: map[string]any{"text": "one"}}).Expect(t, 201)
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/posts", Token: tok, Body: map[string]any{"text": "two"}}).Expect(t, 201)
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/me", Token: tok}).Expect(t, 200).Decode(t, &me)
		if me.Counts == nil || me.Counts.Posts != 2 {
			t.Fatalf("/users/me after two posts: counts %+v, want 2 posts", me.Counts)
		}
	})
}

// TestRevocationWinsOverConcurrentUse: while many requests use a token,
// once its revocation has been answered no request made after it gets in.
// (A lookup that races the revocation is pinned down by the tokens
// package's TestCacheForgetsWhatWasReadBeforeAForget.)
func TestRevocationWinsOverConcurrentUse(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b)
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		admin := srv.Token(t, alice, models.ScopeTokens)
		var made apiToken
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/tokens", Token: admin, Body: map[string]any{"scopes": []string{"basic"}}}).
			Expect(t, 201).Decode(t, &made)

		var revoked atomic.Bool
		var served, refused, lateSuccesses atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for refused.Load() < 200 {
					after := revoked.Load()
					resp, err := srv.Send(apptest.Request{Method: "GET", Path: "/v1/token", Token: made.Token})
					if err != nil {
						t.Error(err)
						return
					}
					switch {
					case resp.Status == 200 && after:
						lateSuccesses.Add(1)
					case resp.Status == 200:
						served.Add(1)
					default:
						refused.Add(1)
					}
				}
			})
		}
		for served.Load() < 50 {
			time.Sleep(time.Millisecond)
		}
		srv.Do(t, apptest.Request{Method: "DELETE", Path: "/v1/tokens/" + made.ID, Token: admin}).Expect(t, 200)
		revoked.Store(true)
		wg.Wait()
		if n := lateSuccesses.Load(); n > 0 {
			t.Fatalf("%d requests made after the revocation was answered got in", n)
		}
	})
}

// TestRevocationReachesEveryReplica: two servers sharing one database and
// one Redis, as replicas do. A token revoked through one is refused by the
// other straight away, though the other's cache would trust it for an
// hour. (The embedded default runs one process, which forgets its own
// revocations; TestTokenCacheTrustsATokenForItsTTL covers a revocation no
// notice tells of.)
func TestRevocationReachesEveryReplica(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		if b.RedisURL == "" {
			t.Skip("replicas hear of revocations through Redis; this backend has none (" + testenv.RedisURLEnv + " pairs it with PostgreSQL)")
		}
		hour := func(c *config.Config) { c.HTTP.TokenCacheTTL = time.Hour }
		first, second := apptest.Start(t, b, hour), apptest.Start(t, b, hour)
		apptest.WaitForReplicas(t, b, 2)
		alice := first.CreateUser(t, "alice", models.UserHuman)
		tok := first.Token(t, alice)
		second.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok}).Expect(t, 200)

		first.Do(t, apptest.Request{Method: "DELETE", Path: "/v1/token", Token: tok}).Expect(t, 200)
		refusedSoon(t, second, tok)

		// And the other way round.
		bob := second.CreateUser(t, "bob", models.UserHuman)
		other := second.Token(t, bob)
		first.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: other}).Expect(t, 200)
		second.Do(t, apptest.Request{Method: "DELETE", Path: "/v1/token", Token: other}).Expect(t, 200)
		refusedSoon(t, first, other)
	})
}

// refusedSoon waits for the notice to arrive: it is sent before the
// revocation is answered, but received by the other replica on its own
// connection.
func refusedSoon(t *testing.T, srv *apptest.Server, tok string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		res := srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok})
		if res.Status == 401 {
			res.ExpectError(t, 401, "invalid_token")
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a token revoked on another replica still answers %d after 5 s", res.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
