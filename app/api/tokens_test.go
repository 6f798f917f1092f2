package api_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

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
		issued := srv.Token(t, alice, models.ScopeTokens) // as `pecan token create` does
		var made apiToken
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/tokens", Token: issued,
			Body: map[string]any{"label": "bot", "scopes": "basic"}}).Expect(t, 201).Decode(t, &made)
		for _, raw := range []string{issued, made.Token} {
			if !strings.HasPrefix(raw, tokens.Prefix) || len(raw) < len(tokens.Prefix)+43 {
				t.Fatalf("token %q is not pcn_ + 32 random bytes", raw)
			}
			// Use it, so whatever a request writes (last use) is written.
			srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: raw}).Expect(t, 200)
		}

		cols := allColumns(t, srv)
		if !slices.Contains(cols, [2]string{"tokens", "hash"}) {
			t.Fatalf("column list lacks tokens.hash, so the search below proves nothing: %v", cols)
		}
		for _, raw := range []string{issued, made.Token} {
			secret := strings.TrimPrefix(raw, tokens.Prefix) // found with or without the prefix
			for _, col := range cols {
				if n := countContaining(t, srv, col, secret); n != 0 {
					t.Errorf("raw token found in %s.%s", col[0], col[1])
				}
			}
			if b.Name == "sqlite" {
				assertNotInFiles(t, strings.TrimPrefix(b.DatabaseURL, "sqlite://"), secret)
			}
			var n int
			if err := srv.App.DB.Bun.NewSelect().Table("tokens").ColumnExpr("count(*)").
				Where("hash = ?", tokens.Hash(raw)).Scan(context.Background(), &n); err != nil || n != 1 {
				t.Fatalf("%d rows hold the SHA-256 of the token (%v), want 1", n, err)
			}
		}
	})
}

// allColumns lists every (table, column) in the test's database.
func allColumns(t *testing.T, srv *apptest.Server) [][2]string {
	t.Helper()
	ctx := context.Background()
	db := srv.App.DB.Bun
	var out [][2]string
	if srv.Backend.Name == "postgres" {
		rows, err := db.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var col [2]string
			if err := rows.Scan(&col[0], &col[1]); err != nil {
				t.Fatal(err)
			}
			out = append(out, col)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	var tables []string
	if err := db.NewRaw(`SELECT name FROM sqlite_master WHERE type = 'table'`).Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		var names []string
		if err := db.NewRaw(`SELECT name FROM pragma_table_info(?)`, table).Scan(ctx, &names); err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			out = append(out, [2]string{table, name})
		}
	}
	return out
}

// countContaining counts the rows whose column, read as text, contains s.
// strpos and instr, unlike LIKE, give "_" in a token no special meaning.
func countContaining(t *testing.T, srv *apptest.Server, col [2]string, s string) int {
	t.Helper()
	find := "instr(CAST(? AS TEXT), ?) > 0"
	if srv.Backend.Name == "postgres" {
		find = "strpos(CAST(? AS text), ?) > 0"
	}
	var n int
	err := srv.App.DB.Bun.NewSelect().TableExpr("?", bun.Ident(col[0])).ColumnExpr("count(*)").
		Where(find, bun.Ident(col[1]), s).Scan(context.Background(), &n)
	if err != nil {
		t.Fatalf("search %s.%s: %v", col[0], col[1], err)
	}
	return n
}

// assertNotInFiles greps the SQLite file and its write-ahead log, which
// also hold deleted rows and pages not yet checkpointed.
func assertNotInFiles(t *testing.T, path, secret string) {
	t.Helper()
	for _, name := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("raw token found in the bytes of %s", filepath.Base(name))
		}
	}
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
