package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

func TestBadRequestsGetPnutErrors(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, func(c *config.Config) { c.HTTP.BodyLimit = 4096 })
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		tok := srv.Token(t, alice, models.ScopeUpdateProfile, models.ScopeTokens)
		cases := []struct {
			name   string
			req    apptest.Request
			status int
			code   string
			field  string
		}{
			{"malformed JSON", apptest.Request{Method: "PATCH", Path: "/v1/users/me", Body: `{"name": "x"`, ContentType: "application/json"}, 400, "malformed_json", ""},
			{"JSON array", apptest.Request{Method: "PATCH", Path: "/v1/users/me", Body: `["x"]`, ContentType: "application/json"}, 400, "malformed_json", ""},
			{"two JSON values", apptest.Request{Method: "PATCH", Path: "/v1/users/me", Body: `{} {}`, ContentType: "application/json"}, 400, "malformed_json", ""},
			{"wrong type", apptest.Request{Method: "PATCH", Path: "/v1/users/me", Body: `{"name": 12}`, ContentType: "application/json"}, 400, "invalid_type", "name"},
			{"nested wrong type", apptest.Request{Method: "PATCH", Path: "/v1/users/me", Body: `{"content.text": ["a"]}`, ContentType: "application/json"}, 400, "invalid_type", "content.text"},
			{"NUL in text", apptest.Request{Method: "PATCH", Path: "/v1/users/me", Body: `{"name": "a\u0000b"}`, ContentType: "application/json"}, 400, "invalid_text", "name"},
			{"name too long", apptest.Request{Method: "PATCH", Path: "/v1/users/me", Body: map[string]any{"name": strings.Repeat("é", 51)}}, 400, "name_too_long", "name"},
			{"bad timezone", apptest.Request{Method: "PATCH", Path: "/v1/users/me", Body: map[string]any{"timezone": "Mars/Olympus"}}, 400, "invalid_timezone", "timezone"},
			{"oversize body", apptest.Request{Method: "PATCH", Path: "/v1/users/me", Body: `{"name": "` + strings.Repeat("a", 5000) + `"}`, ContentType: "application/json"}, 413, "body_too_large", ""},
			{"wrong content type", apptest.Request{Method: "PATCH", Path: "/v1/users/me", Body: `<name/>`, ContentType: "application/xml"}, 415, "unsupported_media_type", ""},
			{"no content type", apptest.Request{Method: "PATCH", Path: "/v1/users/me", Body: `{"name":"x"}`}, 415, "unsupported_media_type", ""},
			{"unknown route", apptest.Request{Method: "GET", Path: "/v1/no/such/thing"}, 404, "not_found", ""},
			{"unknown top-level path", apptest.Request{Method: "GET", Path: "/wp-login.php"}, 404, "not_found", ""},
			{"wrong method", apptest.Request{Method: "PUT", Path: "/v1/token"}, 405, "method_not_allowed", ""},
			{"bad user id", apptest.Request{Method: "GET", Path: "/v1/users/abc"}, 400, "invalid_user_id", "user_id"},
			{"unknown user", apptest.Request{Method: "GET", Path: "/v1/users/@nobody"}, 404, "user_not_found", ""},
			{"me without token", apptest.Request{Method: "GET", Path: "/v1/users/me"}, 401, "token_missing", ""},
			{"ids missing", apptest.Request{Method: "GET", Path: "/v1/users?ids="}, 400, "ids_missing", "ids"},
			{"bad expiry", apptest.Request{Method: "POST", Path: "/v1/tokens", Body: map[string]any{"scopes": "basic", "expires_in": -5}}, 400, "invalid_expiry", "expires_in"},
			{"expiry not a number", apptest.Request{Method: "POST", Path: "/v1/tokens", Body: map[string]any{"scopes": "basic", "expires_in": "soon"}}, 400, "invalid_type", "expires_in"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if tc.req.Method != "GET" {
					tc.req.Token = tok
				}
				resp := srv.Do(t, tc.req).ExpectError(t, tc.status, tc.code)
				if got, _ := resp.Meta["field"].(string); got != tc.field {
					t.Fatalf("field %q, want %q", got, tc.field)
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Fatalf("content type %q", ct)
				}
			})
		}
	})
}

func TestPrettyJSON(t *testing.T) {
	srv := apptest.Start(t, testenv.New(t, "sqlite"))
	srv.CreateUser(t, "alice", models.UserHuman)
	plain := srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@alice"}).Expect(t, 200)
	pretty := srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@alice", Header: http.Header{"X-Pretty-Json": {"1"}}}).Expect(t, 200)
	if strings.Contains(string(plain.Body), "\n  ") || !strings.Contains(string(pretty.Body), "\n  \"meta\"") {
		t.Fatalf("plain %q\npretty %q", plain.Body, pretty.Body)
	}
}

func TestPanicAnswers500WithLoggedErrorID(t *testing.T) {
	srv := apptest.Start(t, testenv.New(t, "sqlite"))
	srv.App.HTTP.GET("/v1/test-panic", func(echo.Context) error { panic("kaboom") })
	resp := srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/test-panic"}).ExpectError(t, 500, "internal_error")
	id, _ := resp.Meta["error_id"].(string)
	if id == "" {
		t.Fatalf("500 without error_id: %s", resp.Body)
	}
	if !strings.Contains(srv.Logs(), id) || !strings.Contains(srv.Logs(), "kaboom") {
		t.Fatalf("error_id %s or the panic not in the log:\n%s", id, srv.Logs())
	}
	// The server keeps serving.
	srv.Do(t, apptest.Request{Method: "GET", Path: "/healthz"}).Expect(t, 200)
}

func TestOperationalEndpoints(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b)
		srv.Do(t, apptest.Request{Method: "GET", Path: "/healthz"}).Expect(t, 200)
		ready := srv.Do(t, apptest.Request{Method: "GET", Path: "/readyz"}).Expect(t, 200)
		var checks map[string]string
		if err := json.Unmarshal(ready.Body, &checks); err != nil || checks["database"] != "ok" || checks["kv"] != "ok" {
			t.Fatalf("readyz %s", ready.Body)
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/1"})
		metrics := srv.Do(t, apptest.Request{Method: "GET", Path: "/metrics"}).Expect(t, 200)
		if !strings.Contains(string(metrics.Body), `pecan_http_requests_total{code="404",host=`) {
			t.Fatalf("metrics lack request counts by status:\n%.2000s", metrics.Body)
		}
		if r := srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token"}); r.Header.Get(echo.HeaderXRequestID) == "" {
			t.Fatalf("no request id header")
		}

		_ = srv.App.DB.Close() // the database goes away: not ready, still healthy
		srv.Do(t, apptest.Request{Method: "GET", Path: "/readyz"}).Expect(t, 503)
		srv.Do(t, apptest.Request{Method: "GET", Path: "/healthz"}).Expect(t, 200)
	})
}

func TestCORSOnAPIRoutes(t *testing.T) {
	srv := apptest.Start(t, testenv.New(t, "sqlite"))
	resp := srv.Do(t, apptest.Request{Method: "OPTIONS", Path: "/v1/token", Header: http.Header{
		"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"GET"},
		"Access-Control-Request-Headers": {"Authorization"},
	}})
	if resp.Status != 204 || resp.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Fatalf("preflight %d %v", resp.Status, resp.Header)
	}
}
