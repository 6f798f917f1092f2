package federation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/testenv"
)

// get fetches a federation document with the given Accept header.
func get(t *testing.T, srv *apptest.Server, path, accept string) *apptest.Response {
	t.Helper()
	return srv.Do(t, apptest.Request{Method: "GET", Path: path, Header: http.Header{"Accept": {accept}}})
}

const (
	acceptAS = "application/activity+json"
	acceptLD = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
)

func decode(t *testing.T, r *apptest.Response) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatalf("not JSON: %v: %s", err, r.Body)
	}
	return doc
}

func TestDiscovery(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, localFederation)
		alice := newAccount(t, srv, "alice")
		alice.call(t, "POST", "/v1/posts", map[string]any{"text": "one"}).Expect(t, 201)
		actor := srv.URL + "/users/alice"

		for _, resource := range []string{"acct:alice@" + srv.Addr(), "acct:ALICE@" + strings.ToUpper(srv.Addr()), actor} {
			r := get(t, srv, "/.well-known/webfinger?resource="+resource, "application/jrd+json").Expect(t, 200)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/jrd+json") {
				t.Fatalf("webfinger content type %q", ct)
			}
			var jrd struct {
				Subject string
				Links   []struct{ Rel, Type, Href string }
			}
			if err := json.Unmarshal(r.Body, &jrd); err != nil {
				t.Fatal(err)
			}
			if jrd.Subject != "acct:alice@"+srv.Addr() || !hasSelfLink(jrd.Links, actor) {
				t.Fatalf("webfinger for %s: %s", resource, r.Body)
			}
		}
		get(t, srv, "/.well-known/webfinger?resource=acct:nobody@"+srv.Addr(), "").Expect(t, 404)
		get(t, srv, "/.well-known/webfinger?resource=acct:alice@elsewhere.example", "").Expect(t, 404)
		get(t, srv, "/.well-known/webfinger", "").Expect(t, 400)

		hostMeta := get(t, srv, "/.well-known/host-meta", "").Expect(t, 200)
		if !strings.Contains(string(hostMeta.Body), srv.URL+"/.well-known/webfinger?resource={uri}") {
			t.Fatalf("host-meta %s", hostMeta.Body)
		}
		links := decode(t, get(t, srv, "/.well-known/nodeinfo", "").Expect(t, 200))
		if !strings.Contains(string(mustJSON(links)), srv.URL+"/nodeinfo/2.1") {
			t.Fatalf("nodeinfo links %v", links)
		}
		for _, version := range []string{"2.0", "2.1"} {
			r := get(t, srv, "/nodeinfo/"+version, "").Expect(t, 200)
			if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "schema/"+version+"#") {
				t.Fatalf("nodeinfo %s content type %q", version, ct)
			}
			doc := decode(t, r)
			usage := doc["usage"].(map[string]any)
			users := usage["users"].(map[string]any)
			if doc["version"] != version || users["total"] != 1.0 || users["activeMonth"] != 1.0 || usage["localPosts"] != 1.0 {
				t.Fatalf("nodeinfo %s: %s", version, r.Body)
			}
		}
	})
}

func hasSelfLink(links []struct{ Rel, Type, Href string }, href string) bool {
	for _, l := range links {
		if l.Rel == "self" && l.Type == "application/activity+json" && l.Href == href {
			return true
		}
	}
	return false
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestDocumentsAreWhereTheirIDsSay: actor, instance actor, Note, outbox and
// collections answer both Accept forms as application/activity+json, each
// with the id it is served at; a deleted post is 410 with a Tombstone.
func TestDocumentsAreWhereTheirIDsSay(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, localFederation)
		alice, bob := newAccount(t, srv, "alice"), newAccount(t, srv, "bob")
		var parent, reply post
		alice.call(t, "POST", "/v1/posts", map[string]any{"text": "root #Pecan"}).Expect(t, 201).Decode(t, &parent)
		bob.call(t, "POST", "/v1/posts", map[string]any{"text": "@alice yes #nsfw", "reply_to": parent.ID}).Expect(t, 201).Decode(t, &reply)

		for _, accept := range []string{acceptAS, acceptLD} {
			for _, path := range []string{"/users/alice", "/actor", "/posts/" + reply.ID, "/users/alice/outbox", "/users/alice/followers", "/users/alice/following"} {
				r := get(t, srv, path, accept).Expect(t, 200)
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/activity+json") {
					t.Fatalf("%s: content type %q", path, ct)
				}
				if id := decode(t, r)["id"]; id != srv.URL+path {
					t.Fatalf("%s: id %v", path, id)
				}
			}
		}
		if page := get(t, srv, "/users/alice", "text/html").Expect(t, 200); !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("a browser at an actor's id gets %s, want the profile page", page.Header.Get("Content-Type"))
		}
		get(t, srv, "/users/nobody", acceptAS).Expect(t, 404)

		actor := decode(t, get(t, srv, "/users/alice", acceptAS))
		key := actor["publicKey"].(map[string]any)
		if actor["type"] != "Person" || actor["preferredUsername"] != "alice" || actor["inbox"] != srv.URL+"/users/alice/inbox" ||
			actor["endpoints"].(map[string]any)["sharedInbox"] != srv.URL+"/inbox" || key["id"] != srv.URL+"/users/alice#main-key" ||
			key["owner"] != srv.URL+"/users/alice" || !strings.HasPrefix(key["publicKeyPem"].(string), "-----BEGIN PUBLIC KEY-----") {
			t.Fatalf("actor %v", actor)
		}

		note := decode(t, get(t, srv, "/posts/"+reply.ID, acceptAS))
		tags := mustJSON(note["tag"])
		if note["type"] != "Note" || note["attributedTo"] != srv.URL+"/users/bob" || note["inReplyTo"] != srv.URL+"/posts/"+parent.ID ||
			note["sensitive"] != true || !strings.Contains(string(tags), `"href":"`+srv.URL+`/users/alice","name":"@alice@`+srv.Addr()+`","type":"Mention"`) ||
			!strings.Contains(string(tags), `"name":"#nsfw","type":"Hashtag"`) ||
			!strings.Contains(note["content"].(string), `<a href="`+srv.URL+`/users/alice" class="u-url mention">@alice</a>`) {
			t.Fatalf("note %s", mustJSON(note))
		}
		if to, cc := mustJSON(note["to"]), mustJSON(note["cc"]); !strings.Contains(string(to), "#Public") ||
			!strings.Contains(string(cc), srv.URL+"/users/bob/followers") || !strings.Contains(string(cc), srv.URL+"/users/alice") {
			t.Fatalf("addressing to %s cc %s", to, cc)
		}

		outbox := decode(t, get(t, srv, "/users/alice/outbox?page=true", acceptAS))
		items := outbox["orderedItems"].([]any)
		if outbox["type"] != "OrderedCollectionPage" || len(items) != 1 || items[0].(map[string]any)["type"] != "Create" {
			t.Fatalf("outbox page %s", mustJSON(outbox))
		}

		alice.call(t, "DELETE", "/v1/posts/"+parent.ID, nil).Expect(t, 200)
		gone := get(t, srv, "/posts/"+parent.ID, acceptAS).Expect(t, 410)
		if doc := decode(t, gone); doc["type"] != "Tombstone" || doc["id"] != srv.URL+"/posts/"+parent.ID {
			t.Fatalf("deleted post: %s", gone.Body)
		}
	})
}

// TestAuthorsLoadWithoutSecrets: a post's author comes without password
// hash or private key, which only signing and signing in need.
func TestAuthorsLoadWithoutSecrets(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, localFederation)
		alice := newAccount(t, srv, "alice")
		var p post
		alice.call(t, "POST", "/v1/posts", map[string]any{"text": "hello"}).Expect(t, 201).Decode(t, &p)
		full, err := srv.App.DB.UserByID(t.Context(), alice.user.ID)
		if err != nil || full.PrivateKeyPEM == "" || full.PasswordHash == "" {
			t.Fatalf("the account itself lacks its secrets: %v", err)
		}
		id := alice.user.ID
		loaded, err := srv.App.DB.PostsByIDs(t.Context(), []int64{mustID(t, p.ID)})
		if err != nil || len(loaded) != 1 || loaded[0].User.ID != id {
			t.Fatalf("post: %v", err)
		}
		if u := loaded[0].User; u.PrivateKeyPEM != "" || u.PasswordHash != "" || u.Username != "alice" {
			t.Fatal("a post's author was loaded with its secrets")
		}
	})
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscan(s, &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestKeylessAccountGetsOneKeyPair: an account made before federation gets
// its key pair when its actor is first fetched; many fetches at once all
// publish the one pair that was stored, since signers keep a user's key
// once they have read it.
func TestKeylessAccountGetsOneKeyPair(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, localFederation)
		alice := newAccount(t, srv, "alice")
		if _, err := srv.App.DB.Bun.NewRaw("UPDATE users SET public_key_pem = '', private_key_pem = '' WHERE id = ?", alice.user.ID).
			Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		pems := make([]string, 8)
		var wg sync.WaitGroup
		for i := range pems {
			wg.Go(func() {
				r, err := srv.Send(apptest.Request{Method: "GET", Path: "/users/alice", Header: http.Header{"Accept": {acceptAS}}})
				if err != nil || r.Status != 200 {
					t.Errorf("actor: %v %v", r, err)
					return
				}
				var doc struct{ PublicKey struct{ PublicKeyPem string } }
				if err := json.Unmarshal(r.Body, &doc); err != nil {
					t.Error(err)
				}
				pems[i] = doc.PublicKey.PublicKeyPem
			})
		}
		wg.Wait()
		stored, err := srv.App.DB.UserByID(context.Background(), alice.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, pem := range pems {
			if pem == "" || pem != stored.PublicKeyPEM {
				t.Fatalf("fetch %d published %q; stored is %q", i, pem, stored.PublicKeyPEM)
			}
		}
	})
}
