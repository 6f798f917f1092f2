package api_test

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/models"
)

type tokenInfo struct {
	Scopes []string `json:"scopes"`
	User   struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"user"`
}

func TestTokenAcceptedAndScoped(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b)
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		full := srv.Token(t, alice, models.ScopeStream, models.ScopeUpdateProfile)

		var info tokenInfo
		resp := srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: full}).Expect(t, 200)
		resp.Decode(t, &info)
		if info.User.Username != "alice" || strings.Join(info.Scopes, ",") != "basic,stream,update_profile" {
			t.Fatalf("token info %+v", info)
		}
		if got := resp.Header.Get("X-OAuth-Scopes"); got != "basic,stream,update_profile" {
			t.Fatalf("X-OAuth-Scopes %q", got)
		}

		patch := apptest.Request{Method: "PATCH", Path: "/v1/users/me", Body: map[string]any{"name": "Alice"}}
		patch.Token = full
		srv.Do(t, patch).Expect(t, 200)
		patch.Token = srv.Token(t, alice, models.ScopeStream) // update_profile removed
		srv.Do(t, patch).ExpectError(t, 403, "scope_missing")
		patch.Token = ""
		srv.Do(t, patch).ExpectError(t, 401, "token_missing")
	})
}

func TestRevokedAndExpiredTokensAreRefused(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b)
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		tok := srv.Token(t, alice)

		srv.Do(t, apptest.Request{Method: "DELETE", Path: "/v1/token", Token: tok}).Expect(t, 200)
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok}).ExpectError(t, 401, "invalid_token")
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/1", Token: tok}).ExpectError(t, 401, "invalid_token")

		raw, _, err := srv.App.Tokens.Issue(context.Background(), alice, tokens.NewToken{Scopes: models.Scopes{models.ScopeBasic}, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: raw}).Expect(t, 200)
		srv.Clock.Advance(time.Hour + time.Second)
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: raw}).ExpectError(t, 401, "invalid_token")

		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: "pcn_not-a-real-token"}).ExpectError(t, 401, "invalid_token")
	})
}

func TestTokensAreStoredHashed(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b)
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		raw := srv.Token(t, alice)
		if !strings.HasPrefix(raw, tokens.Prefix) || len(raw) < len(tokens.Prefix)+43 {
			t.Fatalf("token %q is not pcn_ + 32 random bytes", raw)
		}
		db := srv.App.DB.Bun
		ctx := context.Background()
		var n int
		if err := db.NewSelect().Table("tokens").ColumnExpr("count(*)").
			Where("hash = ? OR label = ? OR scopes = ?", raw, raw, raw).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("raw token found in the tokens table")
		}
		var hash string
		if err := db.NewSelect().Table("tokens").Column("hash").Limit(1).Scan(ctx, &hash); err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		if hash != tokens.Hash(raw) {
			t.Fatalf("stored %q, want the SHA-256 of the token", hash)
		}
	})
}

type apiToken struct {
	ID        string   `json:"id"`
	Label     string   `json:"label"`
	Scopes    []string `json:"scopes"`
	Token     string   `json:"token"`
	ExpiresAt *string  `json:"expires_at"`
}

func TestPersonalAccessTokensAPI(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b)
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		bob := srv.CreateUser(t, "bob", models.UserBot)
		admin := srv.Token(t, alice, models.ScopeTokens, models.ScopeWritePost)

		var made apiToken
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/tokens", Token: admin,
			Body: map[string]any{"label": "my bot", "scopes": []string{"write_post"}, "expires_in": 3600}}).
			Expect(t, 201).Decode(t, &made)
		if made.Token == "" || made.Label != "my bot" || strings.Join(made.Scopes, ",") != "basic,write_post" || made.ExpiresAt == nil {
			t.Fatalf("created %+v", made)
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: made.Token}).Expect(t, 200)

		var list []apiToken
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/tokens", Token: admin}).Expect(t, 200).Decode(t, &list)
		if len(list) != 2 {
			t.Fatalf("listed %d tokens, want 2", len(list))
		}
		for _, tok := range list {
			if tok.Token != "" {
				t.Fatalf("list shows a raw token")
			}
		}

		// The form body works too, and a token cannot grant what it lacks.
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/tokens", Token: admin,
			Body: "scopes=stream", ContentType: "application/x-www-form-urlencoded"}).ExpectError(t, 403, "scope_not_held")
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/tokens", Token: admin,
			Body: map[string]any{"scopes": "write_post,nonsense"}}).ExpectError(t, 400, "unknown_scope")
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/tokens", Token: admin,
			Body: map[string]any{"label": "x"}}).ExpectError(t, 400, "scopes_missing")

		bobs := srv.Token(t, bob, models.ScopeTokens)
		srv.Do(t, apptest.Request{Method: "DELETE", Path: "/v1/tokens/" + made.ID, Token: bobs}).ExpectError(t, 403, "not_yours")
		srv.Do(t, apptest.Request{Method: "DELETE", Path: "/v1/tokens/" + made.ID, Token: admin}).Expect(t, 200)
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: made.Token}).ExpectError(t, 401, "invalid_token")
		srv.Do(t, apptest.Request{Method: "DELETE", Path: "/v1/tokens/" + made.ID, Token: admin}).ExpectError(t, 404, "token_not_found")
		srv.Do(t, apptest.Request{Method: "DELETE", Path: "/v1/tokens/abc", Token: admin}).ExpectError(t, 400, "invalid_id")
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/tokens", Token: made.Token}).ExpectError(t, 401, "invalid_token")
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/tokens", Token: bobs}).Expect(t, http.StatusOK)
	})
}
