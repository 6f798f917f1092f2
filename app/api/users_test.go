package api_test

import (
	"testing"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

type apiUser struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	CreatedAt string `json:"created_at"`
	Locale    string `json:"locale"`
	Timezone  string `json:"timezone"`
	Content   struct {
		Text     string `json:"text"`
		HTML     string `json:"html"`
		Entities struct {
			Links []any `json:"links"`
		} `json:"entities"`
	} `json:"content"`
	Counts *struct {
		Posts     int `json:"posts"`
		Followers int `json:"followers"`
	} `json:"counts"`
	YouFollow *bool `json:"you_follow"`
}

func TestUserLookups(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b)
		alice := srv.CreateUser(t, "Alice", models.UserHuman)
		srv.CreateUser(t, "newsbot", models.UserBot)
		tok := srv.Token(t, alice)

		for _, path := range []string{"/v1/users/1", "/v1/users/@alice", "/v1/users/@ALICE", "/v0/users/@alice"} {
			var u apiUser
			srv.Do(t, apptest.Request{Method: "GET", Path: path}).Expect(t, 200).Decode(t, &u)
			if u.ID != "1" || u.Username != "Alice" || u.Type != "human" || u.Counts == nil || u.Content.Entities.Links == nil || u.YouFollow != nil {
				t.Fatalf("%s: %+v", path, u)
			}
		}
		var me apiUser
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/me", Token: tok}).Expect(t, 200).Decode(t, &me)
		if me.Username != "Alice" || me.YouFollow == nil {
			t.Fatalf("me: %+v", me)
		}

		var many []apiUser
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users?ids=@newsbot,1,99,@nobody,2"}).Expect(t, 200).Decode(t, &many)
		if len(many) != 2 || many[0].Username != "newsbot" || many[1].Username != "Alice" {
			t.Fatalf("ids lookup gave %+v", many)
		}
	})
}

func TestProfileUpdate(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b)
		alice := srv.CreateUser(t, "alice", models.UserHuman)
		tok := srv.Token(t, alice, models.ScopeUpdateProfile)

		var u apiUser
		srv.Do(t, apptest.Request{Method: "PATCH", Path: "/v1/users/me", Token: tok, Body: map[string]any{
			"name": "Alice A.", "content": map[string]any{"text": "I <3 pecans & <b>tags</b>"}, "timezone": "Europe/Berlin",
		}}).Expect(t, 200).Decode(t, &u)
		if u.Name != "Alice A." || u.Timezone != "Europe/Berlin" || u.Content.Text != "I <3 pecans & <b>tags</b>" {
			t.Fatalf("after patch: %+v", u)
		}
		want := `<span itemscope itemtype="https://pnut.io/schemas/Post">I &lt;3 pecans &amp; &lt;b&gt;tags&lt;/b&gt;</span>`
		if u.Content.HTML != want {
			t.Fatalf("html %q, want %q", u.Content.HTML, want)
		}
		// Dotted keys in a form body mean the same as nested JSON; fields not sent stay.
		srv.Do(t, apptest.Request{Method: "PATCH", Path: "/v1/users/me", Token: tok,
			Body: "content.text=form+text", ContentType: "application/x-www-form-urlencoded"}).Expect(t, 200).Decode(t, &u)
		if u.Content.Text != "form text" || u.Name != "Alice A." {
			t.Fatalf("after form patch: %+v", u)
		}
		var stored apiUser
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@alice"}).Expect(t, 200).Decode(t, &stored)
		if stored.Content.Text != "form text" || stored.Timezone != "Europe/Berlin" {
			t.Fatalf("not stored: %+v", stored)
		}
	})
}
