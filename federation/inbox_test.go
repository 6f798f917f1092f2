package federation_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/federation"
	"github.com/pecan-social/pecan/models"
)

// peer is a fake remote server: it serves actor and note documents made
// from the fixtures (their hosts rewritten to the test's servers, their keys
// to keys the test holds) and records what is delivered to its inboxes.
type peer struct {
	*httptest.Server
	mu        sync.Mutex
	docs      map[string][]byte // path → document
	delivered [][]byte
	unsigned  []string // paths fetched without an HTTP Signature
	gets      map[string]int
}

func newPeer(t *testing.T) *peer {
	p := &peer{docs: map[string][]byte{}, gets: map[string]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

func (p *peer) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Method == http.MethodPost {
		body, _ := io.ReadAll(r.Body)
		p.delivered = append(p.delivered, body)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	path := r.URL.Path
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	p.gets[path]++
	if r.Header.Get("Signature") == "" && !strings.HasPrefix(path, "/.well-known/") {
		p.unsigned = append(p.unsigned, path) // servers in authorized-fetch mode would refuse it
	}
	doc, ok := p.docs[path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	ct := "application/activity+json"
	if strings.HasPrefix(path, "/.well-known/webfinger") {
		ct = "application/jrd+json"
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(doc)
}

func (p *peer) serveDoc(path string, doc []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.docs[path] = doc
}

func (p *peer) fetches(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gets[path]
}

func (p *peer) host() string { return strings.TrimPrefix(p.URL, "http://") }

func (p *peer) deliveries() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, len(p.delivered))
	for i, b := range p.delivered {
		out[i] = string(b)
	}
	return out
}

// world rewrites the fixtures' hosts to the test's servers.
type world struct {
	replacer *strings.Replacer
	keys     map[string]*rsa.PrivateKey // actor URL → its private key
}

func (w world) fixture(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(w.replacer.Replace(string(raw)))
}

// actorFixture is an actor fixture with its key replaced by one the test
// holds the private half of.
func (w world) actorFixture(t *testing.T, name string, key *rsa.PrivateKey) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(w.fixture(t, name), &doc); err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	doc["publicKey"].(map[string]any)["publicKeyPem"] = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	out, _ := json.Marshal(doc)
	return out
}

func readKey(t *testing.T, path string) *rsa.PrivateKey {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := federation.ParsePrivateKey(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// deliver POSTs an activity to the server's shared inbox, signed with key
// under keyID, and returns the status.
func deliver(t *testing.T, srv *apptest.Server, body []byte, keyID string, key *rsa.PrivateKey, at time.Time) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/inbox", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`)
	req.Header.Set("User-Agent", "fixture-peer/1.0")
	if key != nil {
		if err := federation.SignRequest(req, body, keyID, key, at); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(resp.Body)
		t.Logf("inbox answered %d: %s", resp.StatusCode, msg)
	}
	return resp.StatusCode
}

// fixtureWorld is a Pecan server with carol on it, a fake Mastodon with
// bob and a fake GoToSocial with alice.
type fixtureWorld struct {
	world
	srv              *apptest.Server
	masto, gts       *peer
	carol            account
	bobKey, aliceKey *rsa.PrivateKey
	bob, alice       string // actor URLs
}

func newFixtureWorld(t *testing.T, b testenv.Backend) *fixtureWorld {
	srv := apptest.Start(t, b, localFederation)
	fw := &fixtureWorld{srv: srv, masto: newPeer(t), gts: newPeer(t)}
	fw.replacer = strings.NewReplacer(
		"https://mastodon.example", fw.masto.URL, "mastodon.example", fw.masto.host(),
		"https://gts.example", fw.gts.URL, "gts.example", fw.gts.host(),
		"https://pecan.example", srv.URL, "pecan.example", srv.Addr(),
	)
	fw.bobKey, fw.aliceKey = readKey(t, "testdata/test-key.pem"), readKey(t, "testdata/other-key.pem")
	fw.bob, fw.alice = fw.masto.URL+"/users/bob", fw.gts.URL+"/users/alice"
	fw.masto.serveDoc("/users/bob", fw.actorFixture(t, "mastodon_actor.json", fw.bobKey))
	fw.masto.serveDoc("/.well-known/webfinger?resource=acct%3Abob%40"+strings.ReplaceAll(fw.masto.host(), ":", "%3A"),
		[]byte(`{"subject":"acct:bob@`+fw.masto.host()+`","links":[{"rel":"self","type":"application/activity+json","href":"`+fw.bob+`"}]}`))
	aliceDoc := fw.actorFixture(t, "gotosocial_actor.json", fw.aliceKey)
	fw.gts.serveDoc("/users/alice", aliceDoc)
	fw.gts.serveDoc("/users/alice/main-key", aliceDoc) // GoToSocial serves its actor at the key's path too
	fw.carol = newAccount(t, srv, "carol")
	return fw
}

func (fw *fixtureWorld) fromBob(t *testing.T, body []byte) int {
	return deliver(t, fw.srv, body, fw.bob+"#main-key", fw.bobKey, time.Now())
}

func (fw *fixtureWorld) fromAlice(t *testing.T, body []byte) int {
	return deliver(t, fw.srv, body, fw.alice+"/main-key", fw.aliceKey, time.Now())
}

func (fw *fixtureWorld) count(t *testing.T, table string) int {
	t.Helper()
	n, err := fw.srv.App.DB.Bun.NewSelect().Table(table).Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestMastodonAndGoToSocialFixtures feeds real-shaped activities from
// Mastodon and GoToSocial to the inbox, in the order a conversation would
// bring them, and checks what each one did.
func TestMastodonAndGoToSocialFixtures(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		fw := newFixtureWorld(t, b)
		srv, carol := fw.srv, fw.carol
		bobHandle := "bob@" + fw.masto.host()

		// carol follows bob by handle; Mastodon's Accept (of a Follow with
		// an id of its own choosing) makes it a follow.
		carol.call(t, "PUT", "/v1/users/@"+bobHandle+"/follow", nil).Expect(t, 200)
		eventually(t, "the Follow reaches Mastodon", func() bool { return len(fw.masto.deliveries()) == 1 })
		if got := fw.masto.deliveries()[0]; !strings.Contains(got, `"type":"Follow"`) || !strings.Contains(got, fw.bob) {
			t.Fatalf("Mastodon got %s", got)
		}
		if status := fw.fromBob(t, fw.fixture(t, "mastodon_accept.json")); status != 202 {
			t.Fatalf("Accept: %d", status)
		}
		var bob user
		carol.call(t, "GET", "/v1/users/@"+bobHandle, nil).Expect(t, 200).Decode(t, &bob)
		if bob.YouFollow == nil || !*bob.YouFollow {
			t.Fatalf("after the Accept carol does not follow bob: %+v", bob)
		}

		// bob follows carol: accepted at once, and the Accept goes back.
		if status := fw.fromBob(t, fw.fixture(t, "mastodon_follow.json")); status != 202 {
			t.Fatalf("Follow: %d", status)
		}
		eventually(t, "the Accept reaches Mastodon", func() bool { return len(fw.masto.deliveries()) == 2 })
		accept := fw.masto.deliveries()[1]
		if !strings.Contains(accept, `"type":"Accept"`) || !strings.Contains(accept, fw.masto.URL+"/4f0c2a7e-6d1b-4b8e-9a55-3c2f1e0d9b7a") {
			t.Fatalf("Mastodon got %s", accept)
		}
		var me user
		carol.call(t, "GET", "/v1/users/me", nil).Expect(t, 200).Decode(t, &me)
		if me.Counts.Followers != 1 || me.Counts.Following != 1 {
			t.Fatalf("carol's counts %+v", me.Counts)
		}

		// bob's Create: the Note is stored with its mention, tag and link.
		create := fw.fixture(t, "mastodon_create.json")
		if status := fw.fromBob(t, create); status != 202 {
			t.Fatalf("Create: %d", status)
		}
		posts := carol.posts(t, "/v1/users/@"+bobHandle+"/posts")
		if len(posts) != 1 {
			t.Fatalf("bob has %d posts on Pecan", len(posts))
		}
		note := posts[0]
		wantText := "@alice@" + fw.gts.host() + " Trying #Pecan today: " + srv.Addr() + "/docs/federation/…\n\nCrème brûlée & 🥧 for everyone!"
		e := note.Content.Entities
		if note.Content.Text != wantText || len(e.Tags) != 1 || e.Tags[0].Text != "Pecan" || len(e.Links) != 1 ||
			e.Links[0].URL != srv.URL+"/docs/federation/getting-started" || len(e.Mentions) != 1 || e.Mentions[0].Text != "alice@"+fw.gts.host() {
			t.Fatalf("stored note %q %+v", note.Content.Text, e)
		}
		if status := fw.fromBob(t, create); status != 202 || len(carol.posts(t, "/v1/users/@"+bobHandle+"/posts")) != 1 {
			t.Fatalf("the same Create twice: %d and a second post", status)
		}
		if stream, ok := carol.postByText(t, "/v1/posts/streams/me", wantText); !ok || stream.ID != note.ID {
			t.Fatal("bob's note is not in carol's personal stream")
		}

		// bob's Update, newer than the Note: the text changes, the original stays.
		if status := fw.fromBob(t, fw.fixture(t, "mastodon_update.json")); status != 202 {
			t.Fatalf("Update: %d", status)
		}
		var updated post
		carol.call(t, "GET", "/v1/posts/"+note.ID, nil).Expect(t, 200).Decode(t, &updated)
		if !updated.IsRevised || !strings.Contains(updated.Content.Text, "Edit: ") {
			t.Fatalf("after the Update: %+v", updated.Content)
		}
		if revs := carol.posts(t, "/v1/posts/"+note.ID+"/revisions"); len(revs) != 1 || revs[0].Content.Text != wantText {
			t.Fatalf("revisions %+v", revs)
		}

		// bob's Announce of alice's GoToSocial post: fetched (bob has a local
		// follower), stored, and reposted.
		fw.gts.serveDoc("/users/alice/statuses/01JD8Y3W5Q3K9T2Z6M4N7P8R0S", fw.fixture(t, "gotosocial_note.json"))
		if status := fw.fromBob(t, fw.fixture(t, "mastodon_announce.json")); status != 202 {
			t.Fatalf("Announce: %d", status)
		}
		aliceHandle := "alice@" + fw.gts.host()
		alicePosts := carol.posts(t, "/v1/users/@"+aliceHandle+"/posts")
		if len(alicePosts) != 1 || alicePosts[0].Counts.Reposts != 1 || !strings.Contains(alicePosts[0].Content.Text, "welcome to the #Fediverse") {
			t.Fatalf("alice's announced post %+v", alicePosts)
		}

		// bob's Like of carol's post is a bookmark.
		mine := carol.call(t, "POST", "/v1/posts", map[string]any{"text": "carol's own words"})
		var carolPost post
		mine.Expect(t, 201).Decode(t, &carolPost)
		like := strings.ReplaceAll(string(fw.fixture(t, "mastodon_like.json")), "/posts/42", "/posts/"+carolPost.ID)
		if status := fw.fromBob(t, []byte(like)); status != 202 {
			t.Fatalf("Like: %d", status)
		}
		carol.call(t, "GET", "/v1/posts/"+carolPost.ID, nil).Expect(t, 200).Decode(t, &carolPost)
		if carolPost.Counts.Bookmarks != 1 {
			t.Fatalf("after the Like: %+v", carolPost.Counts)
		}

		// bob's Delete: the post is gone, and the same Create cannot bring it back.
		if status := fw.fromBob(t, fw.fixture(t, "mastodon_delete.json")); status != 202 {
			t.Fatalf("Delete: %d", status)
		}
		carol.call(t, "GET", "/v1/posts/"+note.ID, nil).Expect(t, 200).Decode(t, &updated)
		if !updated.IsDeleted {
			t.Fatal("the deleted note is not deleted")
		}
		recreate := strings.Replace(string(create), "/activity", "/activity-again", 1)
		if status := fw.fromBob(t, []byte(recreate)); status != 202 || fw.count(t, "posts") != 4 {
			t.Fatalf("a Create of a deleted note: %d, %d posts", status, fw.count(t, "posts"))
		}

		// bob's Undo Follow ends his follow of carol.
		if status := fw.fromBob(t, fw.fixture(t, "mastodon_undo_follow.json")); status != 202 {
			t.Fatalf("Undo: %d", status)
		}
		carol.call(t, "GET", "/v1/users/me", nil).Expect(t, 200).Decode(t, &me)
		if me.Counts.Followers != 0 {
			t.Fatalf("after the Undo carol has %d followers", me.Counts.Followers)
		}

		// alice's Create from GoToSocial (keyId …/main-key, to as one string)
		// concerns nobody here: it is acknowledged and not stored. Once
		// carol follows alice, the same kind of Create is stored.
		gtsCreate := fw.fixture(t, "gotosocial_create.json")
		before := fw.count(t, "posts")
		if status := fw.fromAlice(t, bytes.Replace(gtsCreate, []byte("01JD8Y3W5Q3K9T2Z6M4N7P8R0S"), []byte("01JDNEWPOST"), -1)); status != 202 || fw.count(t, "posts") != before {
			t.Fatalf("an irrelevant Create: %d, posts %d → %d", status, before, fw.count(t, "posts"))
		}
		if err := fw.srv.App.Graph.RemoteFollow(t.Context(), mustUser(t, fw, aliceHandle), mustUser(t, fw, "carol"), fw.alice+"#follow-1"); err != nil {
			t.Fatal(err)
		}
		carol.call(t, "PUT", "/v1/users/@"+aliceHandle+"/follow", nil).Expect(t, 200)
		acceptFromAlice := `{"id":"` + fw.alice + `#accept-1","type":"Accept","actor":"` + fw.alice + `","object":{"type":"Follow","actor":"` + srv.URL + `/users/carol","object":"` + fw.alice + `"}}`
		if status := fw.fromAlice(t, []byte(acceptFromAlice)); status != 202 {
			t.Fatalf("alice's Accept: %d", status)
		}
		second := bytes.Replace(gtsCreate, []byte("01JD8Y3W5Q3K9T2Z6M4N7P8R0S"), []byte("01JDSECOND"), -1)
		if status := fw.fromAlice(t, second); status != 202 || fw.count(t, "posts") != before+1 {
			t.Fatalf("a Create from a followed GoToSocial user: %d, posts %d → %d", status, before, fw.count(t, "posts"))
		}
		for _, p := range []*peer{fw.masto, fw.gts} {
			if len(p.unsigned) > 0 {
				t.Fatalf("fetched without a signature: %v", p.unsigned)
			}
		}

		// alice deletes her account: her posts go, and so do her follows.
		deleteActor := `{"id":"` + fw.alice + `#delete","type":"Delete","actor":"` + fw.alice + `","object":"` + fw.alice + `"}`
		if status := fw.fromAlice(t, []byte(deleteActor)); status != 202 {
			t.Fatalf("actor Delete: %d", status)
		}
		for _, p := range carol.posts(t, "/v1/users/@"+aliceHandle+"/posts") {
			if !p.IsDeleted {
				t.Fatalf("a post of the deleted actor lives on: %+v", p)
			}
		}
		carol.call(t, "GET", "/v1/users/me", nil).Expect(t, 200).Decode(t, &me)
		if me.Counts.Following != 1 || me.Counts.Followers != 0 {
			t.Fatalf("carol's counts after alice left: %+v", me.Counts)
		}
	})
}

func mustUser(t *testing.T, fw *fixtureWorld, name string) *models.User {
	t.Helper()
	u, err := fw.srv.App.DB.UserByUsername(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestInboxRefusesWhatItCannotTrust: every request that is not provably
// from the activity's actor is refused with 401 or 403, and nothing is
// stored.
func TestInboxRefusesWhatItCannotTrust(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		fw := newFixtureWorld(t, b)
		follow := fw.fixture(t, "mastodon_follow.json")
		create := fw.fixture(t, "mastodon_create.json")
		foreignActivity := strings.ReplaceAll(string(create), fw.masto.URL+"/users/bob/statuses/", fw.gts.URL+"/users/alice/statuses/")
		var doc map[string]any
		if err := json.Unmarshal(create, &doc); err != nil {
			t.Fatal(err)
		}
		doc["object"].(map[string]any)["id"] = fw.gts.URL + "/users/alice/statuses/1"
		foreignObject, _ := json.Marshal(doc)

		tampered := func() int {
			req, _ := http.NewRequest(http.MethodPost, fw.srv.URL+"/inbox", bytes.NewReader(follow))
			req.Header.Set("Content-Type", "application/activity+json")
			if err := federation.SignRequest(req, follow, fw.bob+"#main-key", fw.bobKey, time.Now()); err != nil {
				t.Fatal(err)
			}
			changed := bytes.Replace(follow, []byte("Follow"), []byte("Block!"), 1)
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(changed)), int64(len(changed))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		cases := []struct {
			name string
			send func() int
			want int
		}{
			{"unsigned", func() int { return deliver(t, fw.srv, follow, "", nil, time.Now()) }, 401},
			{"forged: bob's key id, another key", func() int { return deliver(t, fw.srv, follow, fw.bob+"#main-key", fw.aliceKey, time.Now()) }, 401},
			{"body changed after signing", tampered, 401},
			{"Date two hours old", func() int {
				return deliver(t, fw.srv, follow, fw.bob+"#main-key", fw.bobKey, time.Now().Add(-2*time.Hour))
			}, 401},
			{"key owned by another actor", func() int { return fw.fromAlice(t, follow) }, 401},
			{"activity on another host", func() int { return fw.fromBob(t, []byte(foreignActivity)) }, 403},
			{"object on another host", func() int { return fw.fromBob(t, foreignObject) }, 403},
		}
		// An actor document over 1 MB is not read, so its key is not trusted.
		huge := fw.masto.URL + "/users/huge"
		fw.masto.serveDoc("/users/huge", []byte(`{"id":"`+huge+`","type":"Person","padding":"`+strings.Repeat("x", federation.MaxDocument)+`"}`))
		hugeFollow := strings.ReplaceAll(string(follow), fw.bob, huge)
		cases = append(cases, struct {
			name string
			send func() int
			want int
		}{"actor document over 1 MB", func() int { return deliver(t, fw.srv, []byte(hugeFollow), huge+"#main-key", fw.bobKey, time.Now()) }, 401})
		for _, c := range cases {
			if got := c.send(); got != c.want {
				t.Errorf("%s: %d, want %d", c.name, got, c.want)
			}
		}
		for _, table := range []string{"follows", "posts", "inbox_activities", "bookmarks"} {
			if n := fw.count(t, table); n != 0 {
				t.Errorf("%d rows in %s after refused requests", n, table)
			}
		}
	})
}

// TestRemoteHTMLIsSanitised: a Note full of hostile markup comes out of the
// API as plain text and safe HTML.
func TestRemoteHTMLIsSanitised(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		fw := newFixtureWorld(t, b)
		hostile := `<p>hi <script>alert(1)</script><img src=x onerror="alert(2)"> <a href="javascript:alert(3)">click</a>` +
			`<style>body{display:none}</style><span style="background:url(javascript:alert(4))">styled</span>` +
			` <a href="https://ok.example/x" onclick="alert(5)">fine</a> <span class="h-card"><a href="` + fw.srv.URL + `/users/carol" class="u-url mention">@<span>carol</span></a></span></p><!-- <script>alert(6)</script> -->`
		note := map[string]any{
			"id": fw.masto.URL + "/users/bob/statuses/666", "type": "Note", "attributedTo": fw.bob,
			"content": hostile, "published": "2026-11-20T10:00:00Z", "to": []string{"https://www.w3.org/ns/activitystreams#Public"},
			"tag": []map[string]string{{"type": "Mention", "href": fw.srv.URL + "/users/carol", "name": "@carol@" + fw.srv.Addr()}},
		}
		act, _ := json.Marshal(map[string]any{"id": fw.masto.URL + "/users/bob/statuses/666/activity", "type": "Create", "actor": fw.bob, "object": note})
		if status := fw.fromBob(t, act); status != 202 {
			t.Fatalf("Create: %d", status)
		}
		posts := fw.carol.posts(t, "/v1/users/@bob@"+fw.masto.host()+"/posts")
		if len(posts) != 1 {
			t.Fatalf("%d posts stored", len(posts))
		}
		html, text := strings.ToLower(posts[0].Content.HTML), posts[0].Content.Text
		for _, bad := range []string{"<script", "alert(", "onerror", "onclick", "javascript:", "<style", "style=", "<img", "<!--"} {
			if strings.Contains(html, bad) || strings.Contains(strings.ToLower(text), bad) {
				t.Errorf("%q survived: html %s text %q", bad, html, text)
			}
		}
		if !strings.Contains(html, `href="https://ok.example/x"`) || !strings.Contains(text, "styled") {
			t.Errorf("the harmless parts were lost: %s", html)
		}
		if _, ok := fw.carol.postByText(t, "/v1/users/me/mentions", text); !ok {
			t.Error("the mention of carol did not reach her mentions")
		}
	})
}

// TestRemoteFollowsShowAtOnce: what a remote server's Follow, Undo,
// Accept, Reject and actor Delete change shows on the local user's very next
// read, though their relations with the remote user were read (and
// remembered) just before.
func TestRemoteFollowsShowAtOnce(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		fw := newFixtureWorld(t, b)
		bobHandle := "bob@" + fw.masto.host()
		bob := func() string {
			t.Helper()
			var u user
			fw.carol.call(t, "GET", "/v1/users/@"+bobHandle, nil).Expect(t, 200).Decode(t, &u)
			return fmt.Sprintf("you follow %v, follows you %v", *u.YouFollow, *u.FollowsYou)
		}
		deleteBob := `{"id":"` + fw.bob + `#delete","type":"Delete","actor":"` + fw.bob + `","object":"` + fw.bob + `"}`
		rejectCarol := `{"id":"` + fw.bob + `#reject-1","type":"Reject","actor":"` + fw.bob + `","object":{"type":"Follow","actor":"` + fw.srv.URL + `/users/carol","object":"` + fw.bob + `"}}`
		for _, step := range []struct {
			what string
			send func() int
			want string
		}{
			{"nothing yet", func() int { return 202 }, "you follow false, follows you false"},
			{"bob's Follow", func() int { return fw.fromBob(t, fw.fixture(t, "mastodon_follow.json")) }, "you follow false, follows you true"},
			{"bob's Undo", func() int { return fw.fromBob(t, fw.fixture(t, "mastodon_undo_follow.json")) }, "you follow false, follows you false"},
			{"carol's request", func() int { return fw.carol.call(t, "PUT", "/v1/users/@"+bobHandle+"/follow", nil).Status }, "you follow false, follows you false"},
			{"bob's Accept", func() int { return fw.fromBob(t, fw.fixture(t, "mastodon_accept.json")) }, "you follow true, follows you false"},
			{"bob's second Follow", func() int {
				again := bytes.Replace(fw.fixture(t, "mastodon_follow.json"), []byte("4f0c2a7e"), []byte("5e1d3b8f"), 1)
				return fw.fromBob(t, again)
			}, "you follow true, follows you true"},
			{"bob's Reject of carol's follow", func() int { return fw.fromBob(t, []byte(rejectCarol)) }, "you follow false, follows you true"},
			{"bob's account deleted", func() int { return fw.fromBob(t, []byte(deleteBob)) }, "you follow false, follows you false"},
		} {
			if status := step.send(); status != 202 && status != 200 {
				t.Fatalf("%s: %d", step.what, status)
			}
			if got := bob(); got != step.want {
				t.Fatalf("after %s carol sees bob as %s, want %s", step.what, got, step.want)
			}
		}
	})
}
