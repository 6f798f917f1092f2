package api_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// FuzzRequestDecoding throws arbitrary bodies and content types at the
// routes that read bodies. Whatever arrives, the answer is a pnut envelope
// with a status below 500.
func FuzzRequestDecoding(f *testing.F) {
	seeds := []struct{ contentType, body string }{
		{"application/json", `{"name":"x","content":{"text":"hi"}}`},
		{"application/json", `{"content.text":"a","content":{"text":"b"}}`},
		{"application/json", `{"content":"flat","content.text":"deep"}`},
		{"application/json", `{"scopes":["basic","stream"],"expires_in":"60"}`},
		{"application/json", `{"text":"hi @alice [x](https://a.example) #t","reply_to":"1","is_nsfw":"1","entities.parse_links":0}`},
		{"application/json", `{"text":"r","raw":{"io.pnut.core.crosspost":[{"canonical_url":"https://a.example"}]}}`},
		{"application/x-www-form-urlencoded", "text=hello&reply_to=abc&raw=x"},
		{"application/json", `[1,2,3]`},
		{"application/json", `{"a":{"b":{"c":{"d":[{"e":null}]}}}}`},
		{"application/json; charset=utf-8", "{\"name\":\"\xff\xfe\"}"},
		{"application/x-www-form-urlencoded", "name=x&name=y&content.text=%00"},
		{"application/x-www-form-urlencoded", "a.b.c=1&a.b=2&%zz"},
		{"text/plain", "hello"},
		{"", ""},
	}
	for _, s := range seeds {
		f.Add(s.contentType, s.body)
	}
	srv := apptest.Start(f, testenv.New(f, "sqlite"), func(c *config.Config) { c.RateLimits.Enabled = false })
	alice := srv.CreateUser(f, "alice", models.UserHuman)
	tok := srv.Token(f, alice, models.ScopeUpdateProfile, models.ScopeTokens, models.ScopeWritePost)
	targets := []struct{ method, path string }{{"PATCH", "/v1/users/me"}, {"POST", "/v1/tokens"}, {"POST", "/v1/posts"}, {"POST", "/v1/text/process"}}

	f.Fuzz(func(t *testing.T, contentType, body string) {
		for _, target := range targets {
			req := httptest.NewRequest(target.method, target.path, strings.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			srv.App.HTTP.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s with %q %q: %d %s", target.method, target.path, contentType, body, rec.Code, rec.Body)
			}
			var env struct {
				Meta struct {
					Code int `json:"code"`
				} `json:"meta"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Meta.Code != rec.Code {
				t.Fatalf("not an envelope (%v): %d %s", err, rec.Code, rec.Body)
			}
		}
	})
}
