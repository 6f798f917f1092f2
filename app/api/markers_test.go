package api_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/testenv"
)

type apiMarker struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	LastReadID string `json:"last_read_id"`
	Percentage int    `json:"percentage"`
	Version    int    `json:"version"`
	UpdatedAt  string `json:"updated_at"`
}

func TestMarkersAPI(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		amy := newMember(t, srv, "amy")
		var ids []string
		for i := range 5 {
			ids = append(ids, amy.mustPost(t, map[string]any{"text": fmt.Sprintf("post %d", i)}).ID)
		}
		post := func(body any, query string) *apptest.Response {
			return srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/markers" + query, Token: amy.token, Body: body})
		}
		var got []apiMarker
		post([]map[string]any{{"name": "global", "id": ids[3], "percentage": 40}, {"name": "mentions", "id": 2}}, "").Expect(t, 200).Decode(t, &got)
		if len(got) != 2 || got[0].Name != "global" || got[0].ID != ids[3] || got[0].LastReadID != ids[3] || got[0].Version != 1 || got[0].Percentage != 40 || got[0].UpdatedAt == "" {
			t.Fatalf("set markers %+v", got)
		}
		post(map[string]any{"name": "global", "id": ids[1]}, "").Expect(t, 200).Decode(t, &got)
		if got[0].ID != ids[1] || got[0].LastReadID != ids[3] || got[0].Version != 2 {
			t.Fatalf("moving back %+v", got)
		}
		post(map[string]any{"name": "global", "id": ids[1], "version": 1}, "").ExpectError(t, 409, "marker_conflict")
		post(map[string]any{"name": "global", "id": ids[1], "version": 2}, "?reset_read_id=1").Expect(t, 200).Decode(t, &got)
		if got[0].LastReadID != ids[1] || got[0].Version != 3 {
			t.Fatalf("reset %+v", got)
		}

		// The global stream carries the marker and pages from it.
		resp := srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/streams/global?since_id=last_read", Token: amy.token}).Expect(t, 200)
		var list []apiPost
		resp.Decode(t, &list)
		marker, _ := resp.Meta["marker"].(map[string]any)
		if len(list) != 3 || list[2].ID != ids[2] || marker["name"] != "global" || marker["last_read_id"] != ids[1] {
			t.Fatalf("stream since last_read: %d posts, meta %v", len(list), resp.Meta)
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/streams/global?since_id=last_read_inclusive", Token: amy.token}).Expect(t, 200).Decode(t, &list)
		if len(list) != 4 || list[3].ID != ids[1] {
			t.Fatalf("inclusive: %+v", list)
		}
		resp = srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/streams/global?include_marker=0", Token: amy.token}).Expect(t, 200)
		if resp.Meta["marker"] != nil {
			t.Fatalf("include_marker=0 still shows it")
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/tags/x?since_id=last_read", Token: amy.token}).ExpectError(t, 400, "invalid_pagination")

		// update_marker=1 moves personal to the new post.
		var made apiPost
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/posts?update_marker=1", Token: amy.token, Body: map[string]any{"text": "marked"}}).Expect(t, 201).Decode(t, &made)
		var all []apiMarker
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/markers", Token: amy.token}).Expect(t, 200).Decode(t, &all)
		if len(all) != 3 || all[2].Name != "personal" || all[2].ID != made.ID {
			t.Fatalf("all markers %+v", all)
		}

		// Markers outlive the server: once it has stopped, a new one on the
		// same stores sees them.
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Send(apptest.Request{Method: "GET", Path: "/v1/markers", Token: amy.token}); err == nil {
			t.Fatal("the first server still answers after stopping")
		}
		again := startPosts(t, b)
		var after []apiMarker
		again.Do(t, apptest.Request{Method: "GET", Path: "/v1/markers", Token: amy.token}).Expect(t, 200).Decode(t, &after)
		if len(after) != 3 || after[0].Version != 3 {
			t.Fatalf("after restart %+v", after)
		}
	})
}

// TestMarkerPagingAndMeta pages from a marker's id (which may lie behind
// its last_read_id) with since_id and before_id, inclusive or not, and
// shows each markable stream carrying its own marker in meta.
func TestMarkerPagingAndMeta(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		amy, bob := newMember(t, srv, "amy"), newMember(t, srv, "bob")
		amy.act(t, "PUT", "/v1/users/@bob/follow").Expect(t, 200)
		var ids []string
		for i := range 5 {
			ids = append(ids, bob.mustPost(t, map[string]any{"text": fmt.Sprintf("@amy post %d", i)}).ID)
		}
		set := func(name, id string) {
			srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/markers", Token: amy.token, Body: map[string]any{"name": name, "id": id}}).Expect(t, 200)
		}
		set("global", ids[3])
		set("global", ids[1]) // the marker moves back; last_read_id stays at ids[3]
		set("personal", ids[2])
		set("mentions", ids[4])
		read := func(path string) ([]string, map[string]any) {
			t.Helper()
			var list []apiPost
			resp := srv.Do(t, apptest.Request{Method: "GET", Path: path, Token: amy.graph}).Expect(t, 200)
			resp.Decode(t, &list)
			var got []string
			for _, p := range list {
				got = append(got, p.ID)
			}
			return got, resp.Meta
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"since_id=marker", []string{ids[4], ids[3], ids[2]}},
			{"since_id=marker_inclusive", []string{ids[4], ids[3], ids[2], ids[1]}},
			{"before_id=marker", []string{ids[0]}},
			{"before_id=marker_inclusive", []string{ids[1], ids[0]}},
			{"since_id=last_read", []string{ids[4]}},
		} {
			if got, _ := read("/v1/posts/streams/global?" + tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("global %s: %v, want %v", tc.query, got, tc.want)
			}
		}
		for _, tc := range []struct{ path, marker, id string }{
			{"/v1/posts/streams/global", "global", ids[1]},
			{"/v1/posts/streams/me", "personal", ids[2]},
			{"/v1/posts/streams/unified", "personal", ids[2]},
			{"/v1/users/me/mentions", "mentions", ids[4]},
			{"/v1/users/@amy/mentions", "mentions", ids[4]},
		} {
			_, meta := read(tc.path)
			m, _ := meta["marker"].(map[string]any)
			if m["name"] != tc.marker || m["id"] != tc.id {
				t.Errorf("%s: meta.marker %v, want %s at %s", tc.path, meta["marker"], tc.marker, tc.id)
			}
		}
		if _, meta := read("/v1/users/@bob/mentions"); meta["marker"] != nil {
			t.Errorf("someone else's mentions carry amy's marker: %v", meta["marker"])
		}
		if got, _ := read("/v1/posts/streams/me?since_id=marker"); !slices.Equal(got, []string{ids[4], ids[3]}) {
			t.Errorf("personal since its marker: %v", got)
		}
	})
}

func TestMarkerErrors(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := startPosts(t, b)
		amy := newMember(t, srv, "amy")
		eleven := make([]map[string]any, 11)
		for i := range eleven {
			eleven[i] = map[string]any{"name": "global", "id": i + 1}
		}
		cases := []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"unknown name", map[string]any{"name": "home", "id": 1}, 400, "invalid_marker_name"},
			{"bad channel", map[string]any{"name": "channel:abc", "id": 1}, 400, "invalid_marker_name"},
			{"no id", map[string]any{"name": "global"}, 400, "invalid_marker_id"},
			{"id not a number", map[string]any{"name": "global", "id": "x"}, 400, "invalid_type"},
			{"percentage", map[string]any{"name": "global", "id": 1, "percentage": 101}, 400, "invalid_percentage"},
			{"eleven", eleven, 400, "invalid_markers"},
			{"empty list", []any{}, 400, "invalid_markers"},
			{"malformed", `[{"name":`, 400, "malformed_json"},
		}
		for _, tc := range cases {
			req := apptest.Request{Method: "POST", Path: "/v1/markers", Token: amy.token, Body: tc.body}
			if s, isString := tc.body.(string); isString {
				req.Body, req.ContentType = s, "application/json"
			}
			srv.Do(t, req).ExpectError(t, tc.status, tc.code)
		}
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/markers"}).ExpectError(t, 401, "token_missing")
	})
}
