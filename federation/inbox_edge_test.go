package federation_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/federation"
)

// note builds a Create of a Note by the fake Mastodon's bob.
func (fw *fixtureWorld) bobCreate(id string, note map[string]any) []byte {
	base := map[string]any{
		"id": fw.masto.URL + "/users/bob/statuses/" + id, "type": "Note", "attributedTo": fw.bob,
		"content": "<p>note " + id + "</p>", "published": "2026-11-20T10:00:00Z",
		"to": []string{"https://www.w3.org/ns/activitystreams#Public"},
	}
	for k, v := range note {
		base[k] = v
	}
	act, _ := json.Marshal(map[string]any{"id": base["id"].(string) + "/activity", "type": "Create", "actor": fw.bob, "object": base})
	return act
}

// followBob makes carol follow bob, so his notes concern this instance.
func (fw *fixtureWorld) followBob(t *testing.T) {
	t.Helper()
	fw.carol.call(t, "PUT", "/v1/users/@bob@"+fw.masto.host()+"/follow", nil).Expect(t, 200)
	accept := `{"id":"` + fw.bob + `#accept-carol","type":"Accept","actor":"` + fw.bob + `","object":{"type":"Follow","actor":"` + fw.srv.URL + `/users/carol","object":"` + fw.bob + `"}}`
	if status := fw.fromBob(t, []byte(accept)); status != 202 {
		t.Fatalf("Accept: %d", status)
	}
}

func TestOnlyPublicNotesAreStored(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		fw := newFixtureWorld(t, b)
		fw.followBob(t)
		followersOnly := fw.bobCreate("1", map[string]any{"to": []string{fw.bob + "/followers"}})
		direct := fw.bobCreate("2", map[string]any{"to": []string{fw.srv.URL + "/users/carol"}})
		unlisted := fw.bobCreate("3", map[string]any{"to": []string{fw.bob + "/followers"}, "cc": "https://www.w3.org/ns/activitystreams#Public"})
		for _, act := range [][]byte{followersOnly, direct, unlisted} {
			if status := fw.fromBob(t, act); status != 202 {
				t.Fatalf("Create: %d", status)
			}
		}
		if n := fw.count(t, "posts"); n != 1 {
			t.Fatalf("%d posts stored; only the unlisted (public in cc) one may be", n)
		}
	})
}

func TestOwnKeysAndOtherHostsAreRefused(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		fw := newFixtureWorld(t, b)
		follow := fw.fixture(t, "mastodon_follow.json")
		usersBefore := fw.count(t, "users")
		if status := deliver(t, fw.srv, follow, fw.srv.URL+"/users/carol#main-key", fw.bobKey, time.Now()); status != 401 {
			t.Fatalf("a request under this instance's own key id: %d", status)
		}
		if n := fw.count(t, "users"); n != usersBefore {
			t.Fatalf("a copy of a local user was made: %d users, had %d", n, usersBefore)
		}
		// A correctly signed request made for another server is not
		// accepted here.
		req, _ := http.NewRequest(http.MethodPost, fw.srv.URL+"/inbox", strings.NewReader(string(follow)))
		req.Host = "elsewhere.example"
		req.URL.Host = "elsewhere.example"
		req.Header.Set("Content-Type", "application/activity+json")
		if err := signFor(req, follow, fw); err != nil {
			t.Fatal(err)
		}
		req.URL.Host = fw.srv.Addr() // sent to us, Host header still the other server's
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || fw.count(t, "follows") != 0 {
			t.Fatalf("a replay from another host: %d, %d follows", resp.StatusCode, fw.count(t, "follows"))
		}
	})
}

func TestDeletesCannotBuryAnotherActorsNotes(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		fw := newFixtureWorld(t, b)
		fw.followBob(t)
		eve := fw.masto.URL + "/users/eve"
		fw.masto.serveDoc("/users/eve", []byte(strings.ReplaceAll(string(fw.actorFixture(t, "mastodon_actor.json", fw.aliceKey)), fw.bob, eve)))
		noteID := fw.masto.URL + "/users/bob/statuses/99"
		del := `{"id":"` + eve + `#delete-99","type":"Delete","actor":"` + eve + `","object":"` + noteID + `"}`
		if status := deliver(t, fw.srv, []byte(del), eve+"#main-key", fw.aliceKey, time.Now()); status != 202 {
			t.Fatalf("eve's Delete of an unknown id: %d", status)
		}
		if status := fw.fromBob(t, fw.bobCreate("99", nil)); status != 202 || fw.count(t, "posts") != 1 {
			t.Fatalf("bob's note after eve's Delete: %d, %d posts", status, fw.count(t, "posts"))
		}
		again := strings.Replace(del, "#delete-99", "#delete-99-again", 1)
		if status := deliver(t, fw.srv, []byte(again), eve+"#main-key", fw.aliceKey, time.Now()); status != 403 {
			t.Fatalf("eve's Delete of bob's stored note: %d", status)
		}
	})
}

func TestUnfetchableThingsAreAcknowledged(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		fw := newFixtureWorld(t, b)
		fw.followBob(t)
		announce := `{"id":"` + fw.bob + `/statuses/7/activity","type":"Announce","actor":"` + fw.bob + `","object":"` + fw.gts.URL + `/users/alice/statuses/gone"}`
		if status := fw.fromBob(t, []byte(announce)); status != 202 {
			t.Fatalf("an Announce of a note that cannot be fetched: %d", status)
		}
		ghost := fw.masto.URL + "/users/ghost"
		leaving := `{"id":"` + ghost + `#delete","type":"Delete","actor":"` + ghost + `","object":"` + ghost + `"}`
		if status := deliver(t, fw.srv, []byte(leaving), ghost+"#main-key", fw.aliceKey, time.Now()); status != 202 {
			t.Fatalf("a deleted account Pecan never knew: %d", status)
		}
		if n := fw.count(t, "users"); n != 2 { // carol and bob
			t.Fatalf("%d users after an unknown account left", n)
		}
	})
}

func TestForgedSignaturesDoNotRefetchEveryTime(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		fw := newFixtureWorld(t, b)
		follow := fw.fixture(t, "mastodon_follow.json")
		if status := fw.fromBob(t, follow); status != 202 {
			t.Fatalf("a real Follow: %d", status)
		}
		before := fw.masto.fetches("/users/bob")
		for range 20 {
			if status := deliver(t, fw.srv, follow, fw.bob+"#main-key", fw.aliceKey, time.Now()); status != 401 {
				t.Fatalf("a forged request: %d", status)
			}
		}
		if n := fw.masto.fetches("/users/bob") - before; n > 1 {
			t.Fatalf("20 forged requests made Pecan fetch bob %d times", n)
		}
	})
}

func TestRepostsGoWithTheirDeletedActor(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		fw := newFixtureWorld(t, b)
		var mine post
		fw.carol.call(t, "POST", "/v1/posts", map[string]any{"text": "repost me"}).Expect(t, 201).Decode(t, &mine)
		announce := `{"id":"` + fw.bob + `/statuses/8/activity","type":"Announce","actor":"` + fw.bob + `","object":"` + fw.srv.URL + `/posts/` + mine.ID + `"}`
		if status := fw.fromBob(t, []byte(announce)); status != 202 {
			t.Fatalf("Announce: %d", status)
		}
		fw.carol.call(t, "GET", "/v1/posts/"+mine.ID, nil).Expect(t, 200).Decode(t, &mine)
		if mine.Counts.Reposts != 1 {
			t.Fatalf("reposts %d", mine.Counts.Reposts)
		}
		leaving := `{"id":"` + fw.bob + `#delete","type":"Delete","actor":"` + fw.bob + `","object":"` + fw.bob + `"}`
		if status := fw.fromBob(t, []byte(leaving)); status != 202 {
			t.Fatalf("Delete of bob: %d", status)
		}
		fw.carol.call(t, "GET", "/v1/posts/"+mine.ID, nil).Expect(t, 200).Decode(t, &mine)
		if mine.Counts.Reposts != 0 {
			t.Fatalf("after bob left, reposts %d", mine.Counts.Reposts)
		}
	})
}

func TestActorsWithTheSameNameOnOneHost(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		fw := newFixtureWorld(t, b)
		if status := fw.fromBob(t, fw.fixture(t, "mastodon_follow.json")); status != 202 {
			t.Fatalf("bob's Follow: %d", status)
		}
		group := fw.masto.URL + "/c/bob" // a Lemmy community named like the person
		doc := strings.ReplaceAll(string(fw.actorFixture(t, "mastodon_actor.json", fw.aliceKey)), fw.bob, group)
		doc = strings.Replace(doc, `"type":"Person"`, `"type":"Group"`, 1)
		fw.masto.serveDoc("/c/bob", []byte(doc))
		follow := strings.ReplaceAll(string(fw.fixture(t, "mastodon_follow.json")), fw.bob, group)
		follow = strings.Replace(follow, "4f0c2a7e", "5f0c2a7e", 1)
		if status := deliver(t, fw.srv, []byte(follow), group+"#main-key", fw.aliceKey, time.Now()); status != 202 {
			t.Fatalf("the group's Follow: %d", status)
		}
		var me user
		fw.carol.call(t, "GET", "/v1/users/me", nil).Expect(t, 200).Decode(t, &me)
		if me.Counts.Followers != 2 {
			t.Fatalf("carol has %d followers, want bob and the group", me.Counts.Followers)
		}
	})
}

func TestRemoteEntitiesAreCapped(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		fw := newFixtureWorld(t, b)
		fw.followBob(t)
		var html strings.Builder
		html.WriteString("<p>")
		for i := range 150 {
			fmt.Fprintf(&html, `<a href="https://x.example/tags/t%d" class="mention hashtag" rel="tag">#t%d</a> `, i, i)
		}
		if status := fw.fromBob(t, fw.bobCreate("tags", map[string]any{"content": html.String() + "</p>"})); status != 202 {
			t.Fatalf("Create: %d", status)
		}
		if n := fw.count(t, "post_tags"); n != 100 {
			t.Fatalf("%d tags indexed, want the cap of 100", n)
		}
	})
}

// signFor signs req as bob, for whatever host req names.
func signFor(req *http.Request, body []byte, fw *fixtureWorld) error {
	return federation.SignRequest(req, body, fw.bob+"#main-key", fw.bobKey, time.Now())
}
