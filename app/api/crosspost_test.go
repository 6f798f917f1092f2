package api_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// mastodon is a test double of a server that speaks the Mastodon client
// API, with the request and answer shapes docs.joinmastodon.org gives:
// bearer tokens, verify_credentials, and statuses that are made (once per
// Idempotency-Key, as Mastodon remembers keys), edited and deleted.
type mastodon struct {
	*httptest.Server
	token string

	mu          sync.Mutex
	requests    []mastodonRequest
	statuses    []*mastodonStatus
	idempotency map[string]*mastodonStatus
	// loseAnswers is how many creates are made but answered 500, as when
	// the server falls over after saving.
	loseAnswers int
	// failNext are answers to the next requests, given without doing
	// anything.
	failNext []int
}

type mastodonRequest struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

type mastodonStatus struct {
	ID          string `json:"id"`
	URL         string `json:"url"`
	URI         string `json:"uri"`
	Text        string `json:"text"`
	Sensitive   bool   `json:"sensitive"`
	InReplyToID any    `json:"in_reply_to_id"`
	EditedAt    any    `json:"edited_at"`
	Deleted     bool   `json:"-"`
}

func newMastodon(t *testing.T, token string) *mastodon {
	m := &mastodon{token: token, idempotency: map[string]*mastodonStatus{}}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.Close)
	return m
}

func (m *mastodon) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests = append(m.requests, mastodonRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	if len(m.failNext) > 0 {
		status := m.failNext[0]
		m.failNext = m.failNext[1:]
		reply(status, map[string]string{"error": http.StatusText(status)})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+m.token {
		reply(401, map[string]string{"error": "The access token is invalid"})
		return
	}
	id, isStatus := strings.CutPrefix(r.URL.Path, "/api/v1/statuses/")
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/v1/accounts/verify_credentials":
		reply(200, map[string]any{"id": "109", "username": "alice", "acct": "alice", "display_name": "Alice", "url": m.URL + "/@alice"})
	case r.Method == "POST" && r.URL.Path == "/api/v1/statuses":
		m.create(r, body, reply)
	case isStatus && (r.Method == "PUT" || r.Method == "DELETE"):
		s := m.status(id)
		if s == nil {
			reply(404, map[string]string{"error": "Record not found"})
			return
		}
		if r.Method == "DELETE" {
			s.Deleted = true
			reply(200, s)
			return
		}
		var params struct {
			Status    string `json:"status"`
			Sensitive bool   `json:"sensitive"`
		}
		_ = json.Unmarshal(body, &params)
		s.Text, s.Sensitive, s.EditedAt = params.Status, params.Sensitive, time.Now().UTC().Format(time.RFC3339)
		reply(200, s)
	default:
		reply(404, map[string]string{"error": "Record not found"})
	}
}

func (m *mastodon) create(r *http.Request, body []byte, reply func(int, any)) {
	key := r.Header.Get("Idempotency-Key")
	if s, ok := m.idempotency[key]; ok && key != "" {
		reply(200, s)
		return
	}
	var params struct {
		Status      string `json:"status"`
		Sensitive   bool   `json:"sensitive"`
		InReplyToID string `json:"in_reply_to_id"`
	}
	if err := json.Unmarshal(body, &params); err != nil || params.Status == "" {
		reply(422, map[string]string{"error": "Validation failed: Text can't be blank"})
		return
	}
	id := strconv.Itoa(110000 + len(m.statuses))
	s := &mastodonStatus{ID: id, URL: m.URL + "/@alice/" + id, URI: m.URL + "/users/alice/statuses/" + id,
		Text: params.Status, Sensitive: params.Sensitive}
	if params.InReplyToID != "" {
		s.InReplyToID = params.InReplyToID
	}
	m.statuses = append(m.statuses, s)
	if key != "" {
		m.idempotency[key] = s
	}
	if m.loseAnswers > 0 {
		m.loseAnswers--
		reply(500, map[string]string{"error": "We're sorry, but something went wrong on our end."})
		return
	}
	reply(200, s)
}

func (m *mastodon) status(id string) *mastodonStatus {
	for _, s := range m.statuses {
		if s.ID == id && !s.Deleted {
			return s
		}
	}
	return nil
}

func (m *mastodon) live() []mastodonStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []mastodonStatus
	for _, s := range m.statuses {
		if !s.Deleted {
			out = append(out, *s)
		}
	}
	return out
}

func (m *mastodon) seen(method, pathPrefix string) []mastodonRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []mastodonRequest
	for _, r := range m.requests {
		if r.Method == method && strings.HasPrefix(r.Path, pathPrefix) {
			out = append(out, r)
		}
	}
	return out
}

type apiTarget struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Handle     string `json:"handle"`
	URL        string `json:"url"`
	Actor      string `json:"actor"`
	ProfileURL string `json:"profile_url"`
}

type apiCrosspost struct {
	TargetID    string  `json:"target_id"`
	Kind        string  `json:"kind"`
	Status      string  `json:"status"`
	Attempts    int     `json:"attempts"`
	DeliveredAt *string `json:"delivered_at"`
	RemoteID    *string `json:"remote_id"`
	RemoteURL   *string `json:"remote_url"`
	LastError   *string `json:"last_error"`
}

type crosspostedPost struct {
	ID         string          `json:"id"`
	Deliveries []apiCrosspost  `json:"deliveries"`
	Raw        json.RawMessage `json:"raw"`
}

// recorder keeps every answer a test gets, to check that no secret is in
// any of them.
type recorder struct {
	mu      sync.Mutex
	answers [][]byte
}

func (r *recorder) do(t *testing.T, srv *apptest.Server, token, method, path string, body any) *apptest.Response {
	t.Helper()
	resp := srv.Do(t, apptest.Request{Method: method, Path: path, Token: token, Body: body})
	r.mu.Lock()
	r.answers = append(r.answers, resp.Body)
	r.mu.Unlock()
	return resp
}

func (r *recorder) neverShows(t *testing.T, secret string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.answers {
		if strings.Contains(string(a), secret) {
			t.Fatalf("an answer shows the access token: %s", a)
		}
	}
}

func randomKey(t *testing.T) string {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(key)
}

func deliveriesOf(t *testing.T, r *recorder, srv *apptest.Server, token, postID string) []apiCrosspost {
	t.Helper()
	var p crosspostedPost
	r.do(t, srv, token, "GET", "/v1/posts/"+postID, nil).Expect(t, 200).Decode(t, &p)
	return p.Deliveries
}

// TestCrosspostToMastodon: a post crossposted to a Mastodon account
// arrives once, with the user's token, the text as Mastodon users read it,
// sensitive from is_nsfw and the delivery's message id as Idempotency-Key,
// although the first answer was lost; the post shows the delivery go from
// pending to delivered with the status's id and URL; a reply answers that
// status there, the revision edits it, the delete deletes it; the author's
// webhook hears post.crossposted; nobody else sees the deliveries, and the
// token is in no answer, no log line and not in the database as it is.
func TestCrosspostToMastodon(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.StartWith(t, b, apptest.Options{ManualDelivery: true}, allowPrivate, func(c *config.Config) {
			c.Crosspost.SecretKey = randomKey(t)
			c.Delivery.BackoffBase, c.Delivery.BackoffMax = time.Second, 2*time.Second
		})
		const token = "masto-token-4f1c2b9e7d"
		masto := newMastodon(t, token)
		alice := newHooker(t, srv, "alice")
		newPoster(t, srv, "bob", models.UserHuman)
		var r recorder

		var target apiTarget
		r.do(t, srv, alice.hooks, "POST", "/v1/crosspost/targets", map[string]any{
			"kind": "mastodon", "url": masto.URL + "/", "access_token": token,
		}).Expect(t, 201).Decode(t, &target)
		host := strings.TrimPrefix(masto.URL, "http://")
		if target.Kind != "mastodon" || target.Handle != "alice@"+host || target.URL != masto.URL || target.ProfileURL != masto.URL+"/@alice" {
			t.Fatalf("target %+v", target)
		}
		hooks := newHookReceiver(t)
		alice.createHook(t, hooks.URL, "post.crossposted")

		masto.mu.Lock()
		masto.loseAnswers = 1
		masto.mu.Unlock()
		var post crosspostedPost
		r.do(t, srv, alice.hooks, "POST", "/v1/posts", map[string]any{
			"text": "Read [the docs](https://pnut.io/docs) @bob #pecan", "is_nsfw": true, "crosspost": []string{target.ID},
		}).Expect(t, 201).Decode(t, &post)
		if len(post.Deliveries) != 1 || post.Deliveries[0].Status != "pending" || post.Deliveries[0].TargetID != target.ID ||
			post.Deliveries[0].Kind != "mastodon" || post.Deliveries[0].RemoteID != nil || post.Deliveries[0].Attempts != 0 {
			t.Fatalf("new post's deliveries %+v", post.Deliveries)
		}

		drain(t, srv, 1) // the status is made, but the answer is a 500
		d := deliveriesOf(t, &r, srv, alice.hooks, post.ID)
		if d[0].Status != "pending" || d[0].Attempts != 1 || d[0].LastError == nil || !strings.Contains(*d[0].LastError, "500") {
			t.Fatalf("after a lost answer %+v", d[0])
		}
		srv.Clock.Advance(5 * time.Second)
		drain(t, srv, 2) // the retry carries the same Idempotency-Key, and the webhook goes out

		statuses := masto.live()
		if len(statuses) != 1 {
			t.Fatalf("%d statuses on the server, want 1: %+v", len(statuses), statuses)
		}
		made := statuses[0]
		if want := "Read the docs (https://pnut.io/docs) @bob@" + srv.Addr() + " #pecan"; made.Text != want || !made.Sensitive {
			t.Fatalf("status %q sensitive=%v, want %q sensitive", made.Text, made.Sensitive, want)
		}
		creates := masto.seen("POST", "/api/v1/statuses")
		var messageID string
		if err := srv.App.DB.Bun.NewSelect().Table("deliveries").Column("message_id").
			Where("kind = 'crosspost' AND post_id = ?", post.ID).Scan(context.Background(), &messageID); err != nil {
			t.Fatal(err)
		}
		for _, c := range creates {
			if c.Header.Get("Authorization") != "Bearer "+token || c.Header.Get("Idempotency-Key") != messageID || messageID == "" {
				t.Fatalf("create carries Authorization %q, Idempotency-Key %q; want the token and %q", c.Header.Get("Authorization"), c.Header.Get("Idempotency-Key"), messageID)
			}
		}
		if len(creates) != 2 {
			t.Fatalf("%d creates, want 2 (a lost answer, then its retry)", len(creates))
		}
		d = deliveriesOf(t, &r, srv, alice.hooks, post.ID)
		if d[0].Status != "delivered" || d[0].RemoteID == nil || *d[0].RemoteID != made.ID || d[0].RemoteURL == nil ||
			*d[0].RemoteURL != made.URL || d[0].DeliveredAt == nil || d[0].LastError != nil {
			t.Fatalf("after delivery %+v, status %+v", d[0], made)
		}
		got := hooks.all()
		if len(got) != 1 || got[0].Payload.Event.Type != "post.crossposted" || !strings.Contains(string(got[0].Payload.Event.Data), `"id":"`+post.ID+`"`) {
			t.Fatalf("webhook got %+v", got)
		}

		// A reply crossposted there answers the status its parent became.
		var reply crosspostedPost
		r.do(t, srv, alice.hooks, "POST", "/v1/posts", map[string]any{
			"text": "and a reply", "reply_to": post.ID, "crosspost_all": true,
		}).Expect(t, 201).Decode(t, &reply)
		drain(t, srv, 2)
		if statuses = masto.live(); len(statuses) != 2 || statuses[1].InReplyToID != made.ID {
			t.Fatalf("reply %+v, want in reply to %s", statuses, made.ID)
		}

		// The revision edits the status; the delete deletes it.
		r.do(t, srv, alice.hooks, "PUT", "/v1/posts/"+post.ID, map[string]any{
			"text": "Read [the docs](https://pnut.io/docs) @bob #pecan, revised", "is_nsfw": false,
		}).Expect(t, 201)
		if d = deliveriesOf(t, &r, srv, alice.hooks, post.ID); d[0].Status != "pending" {
			t.Fatalf("edit queued: %+v", d[0])
		}
		drain(t, srv, 1)
		edits := masto.seen("PUT", "/api/v1/statuses/"+made.ID)
		statuses = masto.live()
		if len(edits) != 1 || len(statuses) != 2 || !strings.HasSuffix(statuses[0].Text, ", revised") || statuses[0].Sensitive {
			t.Fatalf("after the revision: %d edits, statuses %+v", len(edits), statuses)
		}
		if d = deliveriesOf(t, &r, srv, alice.hooks, post.ID); d[0].Status != "delivered" || *d[0].RemoteID != made.ID {
			t.Fatalf("edit delivered: %+v", d[0])
		}
		r.do(t, srv, alice.hooks, "DELETE", "/v1/posts/"+post.ID, nil).Expect(t, 200)
		drain(t, srv, 1)
		if deletes := masto.seen("DELETE", "/api/v1/statuses/"+made.ID); len(deletes) != 1 || len(masto.live()) != 1 {
			t.Fatalf("after the delete: %d deletes, statuses %+v", len(deletes), masto.live())
		}

		// Only the author sees where a post went.
		bob := newPoster(t, srv, "carol", models.UserHuman)
		for _, tok := range []string{bob.token, ""} {
			resp := r.do(t, srv, tok, "GET", "/v1/posts/"+reply.ID, nil).Expect(t, 200)
			if strings.Contains(string(resp.Body), "deliveries") {
				t.Fatalf("someone else sees the deliveries: %s", resp.Body)
			}
		}
		var page []crosspostedPost
		r.do(t, srv, alice.hooks, "GET", "/v1/users/me/posts", nil).Expect(t, 200).Decode(t, &page)
		if len(page) == 0 || len(page[0].Deliveries) != 1 {
			t.Fatalf("alice's own stream shows %+v", page)
		}

		r.neverShows(t, token)
		if strings.Contains(srv.Logs(), token) {
			t.Fatal("the access token is in the server log")
		}
		var stored []string
		if err := srv.App.DB.Bun.NewSelect().Table("crosspost_targets").Column("sealed_token").Scan(context.Background(), &stored); err != nil {
			t.Fatal(err)
		}
		var rows []string
		if err := srv.App.DB.Bun.NewSelect().Table("deliveries").ColumnExpr("headers || body").Scan(context.Background(), &rows); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(append(stored, rows...), func(s string) bool { return strings.Contains(s, token) }) || len(stored) != 1 {
			t.Fatalf("the token is stored as it is: %v", stored)
		}
	})
}

// TestCrosspostEditsWaitForTheCreate: a revision made before the post
// reached the target waits for it and then edits that status; a delete of
// a post that never got there fails at once without asking the server.
func TestCrosspostEditsWaitForTheCreate(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.StartWith(t, b, apptest.Options{ManualDelivery: true}, allowPrivate, func(c *config.Config) {
			c.Delivery.BackoffBase, c.Delivery.BackoffMax = time.Second, 2*time.Second
		})
		masto := newMastodon(t, "tok")
		alice := newPoster(t, srv, "alice", models.UserHuman)
		var r recorder
		var target apiTarget
		r.do(t, srv, alice.token, "POST", "/v1/crosspost/targets", map[string]any{"kind": "mastodon", "url": masto.URL, "access_token": "tok"}).Expect(t, 201).Decode(t, &target)

		masto.mu.Lock()
		masto.failNext = []int{http.StatusServiceUnavailable}
		masto.mu.Unlock()
		post := alice.mustPost(t, map[string]any{"text": "first draft", "crosspost": []string{target.ID}})
		alice.do(t, "PUT", "/v1/posts/"+post.ID, map[string]any{"text": "second draft"}).Expect(t, 201)
		drain(t, srv, 2) // the create meets a 503; the edit has nothing to edit yet
		d := deliveriesOf(t, &r, srv, alice.token, post.ID)
		if d[0].Status != "pending" || d[0].LastError == nil || !strings.Contains(*d[0].LastError, "waiting for the post to reach the target") {
			t.Fatalf("the waiting edit: %+v", d[0])
		}
		for range 5 {
			srv.Clock.Advance(5 * time.Second)
			if _, err := srv.App.Delivery.Drain(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		statuses := masto.live()
		if len(statuses) != 1 || statuses[0].Text != "second draft" || len(masto.seen("PUT", "/api/v1/statuses/"+statuses[0].ID)) != 1 {
			t.Fatalf("statuses %+v", statuses)
		}
		if d = deliveriesOf(t, &r, srv, alice.token, post.ID); d[0].Status != "delivered" || *d[0].RemoteID != statuses[0].ID {
			t.Fatalf("after the edit: %+v", d[0])
		}

		masto.mu.Lock()
		masto.failNext = []int{http.StatusUnprocessableEntity}
		masto.mu.Unlock()
		doomed := alice.mustPost(t, map[string]any{"text": "never there", "crosspost": []string{target.ID}})
		alice.do(t, "DELETE", "/v1/posts/"+doomed.ID, nil).Expect(t, 200)
		drain(t, srv, 2)
		d = deliveriesOf(t, &r, srv, alice.token, doomed.ID)
		if d[0].Status != "failed" || d[0].LastError == nil || !strings.Contains(*d[0].LastError, "never reached the target") {
			t.Fatalf("the delete of a post that never arrived: %+v", d[0])
		}
		if n := len(masto.seen("DELETE", "/api/v1/statuses")); n != 0 {
			t.Fatalf("%d deletes sent for a status that does not exist", n)
		}
	})
}

// TestCrosspostTargetsBelongToTheirOwner: another user can neither see,
// use nor delete someone's targets, bad targets are refused with clear
// errors, and the key Pecan makes for itself (none configured) seals and
// opens tokens.
func TestCrosspostTargetsBelongToTheirOwner(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, allowPrivate)
		const token, bobsToken = "alice-secret-token-77", "bob-secret-token-88"
		masto, bobsMasto := newMastodon(t, token), newMastodon(t, bobsToken)
		alice, bob := newPoster(t, srv, "alice", models.UserHuman), newPoster(t, srv, "bob", models.UserHuman)
		var r recorder
		create := func(p poster, body map[string]any) *apptest.Response {
			return r.do(t, srv, p.token, "POST", "/v1/crosspost/targets", body)
		}

		var target, bobsTarget apiTarget
		create(alice, map[string]any{"kind": "mastodon", "url": masto.URL, "access_token": token}).Expect(t, 201).Decode(t, &target)
		create(bob, map[string]any{"kind": "mastodon", "url": bobsMasto.URL, "access_token": bobsToken}).Expect(t, 201).Decode(t, &bobsTarget)
		var list []apiTarget
		r.do(t, srv, bob.token, "GET", "/v1/crosspost/targets", nil).Expect(t, 200).Decode(t, &list)
		if len(list) != 1 || list[0].ID != bobsTarget.ID {
			t.Fatalf("bob lists %+v", list)
		}
		r.do(t, srv, bob.token, "GET", "/v1/crosspost/targets/"+target.ID, nil).ExpectError(t, 403, "not_yours")
		r.do(t, srv, bob.token, "DELETE", "/v1/crosspost/targets/"+target.ID, nil).ExpectError(t, 403, "not_yours")
		r.do(t, srv, bob.token, "GET", "/v1/crosspost/targets/999999", nil).ExpectError(t, 404, "target_not_found")
		resp := r.do(t, srv, bob.token, "POST", "/v1/posts", map[string]any{"text": "borrowing", "crosspost": []string{target.ID}}).ExpectError(t, 403, "not_yours")
		if resp.Meta["field"] != "crosspost" {
			t.Fatalf("field %v", resp.Meta["field"])
		}
		r.do(t, srv, bob.token, "POST", "/v1/posts", map[string]any{"text": "nowhere", "crosspost": []int{999999}}).ExpectError(t, 404, "target_not_found")
		r.do(t, srv, bob.token, "POST", "/v1/posts", map[string]any{"text": "nowhere", "crosspost": "x,y"}).ExpectError(t, 400, "invalid_crosspost")
		var bobsPosts []apiPost
		r.do(t, srv, bob.token, "GET", "/v1/users/me/posts", nil).Expect(t, 200).Decode(t, &bobsPosts)
		if len(bobsPosts) != 0 {
			t.Fatalf("a refused crosspost left posts behind: %+v", bobsPosts)
		}
		if len(masto.seen("POST", "/api/v1/statuses")) != 0 {
			t.Fatal("alice's server got bob's post")
		}

		cases := []struct {
			body        map[string]any
			status      int
			code, field string
		}{
			{map[string]any{"url": masto.URL, "access_token": token}, 400, "invalid_kind", "kind"},
			{map[string]any{"kind": "myspace"}, 400, "invalid_kind", "kind"},
			{map[string]any{"kind": "mastodon", "access_token": token}, 400, "invalid_url", "url"},
			{map[string]any{"kind": "mastodon", "url": "ftp://example.com", "access_token": token}, 400, "invalid_url", "url"},
			{map[string]any{"kind": "mastodon", "url": masto.URL + "?a=b", "access_token": token}, 400, "invalid_url", "url"},
			{map[string]any{"kind": "mastodon", "url": masto.URL}, 400, "invalid_access_token", "access_token"},
			{map[string]any{"kind": "mastodon", "url": masto.URL, "access_token": "has space"}, 400, "invalid_access_token", "access_token"},
			{map[string]any{"kind": "mastodon", "url": masto.URL, "access_token": "wrong-token"}, 400, "target_rejected", "access_token"},
			{map[string]any{"kind": "mastodon", "url": "http://127.0.0.1:1", "access_token": token}, 400, "target_unreachable", "url"},
			{map[string]any{"kind": "mastodon", "url": masto.URL, "access_token": token}, 409, "target_exists", ""},
			{map[string]any{"kind": "activitypub"}, 400, "invalid_actor", "actor"},
			{map[string]any{"kind": "activitypub", "actor": "@nobody@127.0.0.1:1"}, 400, "unresolvable_target", "actor"},
			{map[string]any{"kind": "activitypub", "actor": "@bob@" + srv.Addr()}, 400, "unresolvable_target", "actor"},
		}
		for _, c := range cases {
			resp := create(alice, c.body).ExpectError(t, c.status, c.code)
			if field, _ := resp.Meta["field"].(string); field != c.field {
				t.Errorf("%v: field %q, want %q", c.body, field, c.field)
			}
		}
		noScope := srv.Token(t, alice.user)
		r.do(t, srv, noScope, "GET", "/v1/crosspost/targets", nil).ExpectError(t, 403, "scope_missing")

		// The key Pecan made for itself seals the token and opens it to sign.
		var post crosspostedPost
		r.do(t, srv, alice.token, "POST", "/v1/posts", map[string]any{"text": "out it goes", "crosspost": target.ID}).Expect(t, 201).Decode(t, &post)
		waitFor(t, "the crosspost to arrive", func() bool { return len(masto.live()) == 1 })
		if c := masto.seen("POST", "/api/v1/statuses"); c[0].Header.Get("Authorization") != "Bearer "+token {
			t.Fatalf("create signed with %q", c[0].Header.Get("Authorization"))
		}
		r.do(t, srv, alice.token, "PUT", "/v1/posts/"+post.ID, map[string]any{"text": "out it goes!", "crosspost": target.ID}).ExpectError(t, 400, "crosspost_immutable")

		r.do(t, srv, alice.token, "DELETE", "/v1/crosspost/targets/"+target.ID, nil).Expect(t, 200)
		r.do(t, srv, alice.token, "GET", "/v1/crosspost/targets/"+target.ID, nil).ExpectError(t, 404, "target_not_found")
		if d := deliveriesOf(t, &r, srv, alice.token, post.ID); len(d) != 0 {
			t.Fatalf("a deleted target still shows: %+v", d)
		}
		r.neverShows(t, token)
		r.neverShows(t, bobsToken)
		if logs := srv.Logs(); strings.Contains(logs, token) || strings.Contains(logs, bobsToken) {
			t.Fatal("a token is in the server log")
		}
	})
}

// TestCrosspostToActivityPub: with a second Pecan as the target, the
// crossposted Note arrives signed, verifies, and is in the target user's
// mentions there; its revision and delete follow it.
func TestCrosspostToActivityPub(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		serverA := apptest.Start(t, b, allowPrivate)
		serverB := apptest.Start(t, testenv.New(t, b.Name), allowPrivate)
		alice, bob := newPoster(t, serverA, "alice", models.UserHuman), newPoster(t, serverB, "bob", models.UserHuman)
		var r recorder

		var target apiTarget
		r.do(t, serverA, alice.token, "POST", "/v1/crosspost/targets", map[string]any{
			"kind": "activitypub", "actor": "@bob@" + serverB.Addr(),
		}).Expect(t, 201).Decode(t, &target)
		if target.Kind != "activitypub" || target.Handle != "bob@"+serverB.Addr() || target.Actor != serverB.URL+"/users/bob" {
			t.Fatalf("target %+v", target)
		}
		r.do(t, serverA, alice.token, "POST", "/v1/crosspost/targets", map[string]any{
			"kind": "activitypub", "actor": serverB.URL + "/users/bob",
		}).ExpectError(t, 409, "target_exists")

		var post crosspostedPost
		r.do(t, serverA, alice.token, "POST", "/v1/posts", map[string]any{"text": "Hello from A #pecan", "crosspost_all": "1"}).Expect(t, 201).Decode(t, &post)
		mention := func() *apiPost {
			var list []apiPost
			r.do(t, serverB, bob.token, "GET", "/v1/users/me/mentions", nil).Expect(t, 200).Decode(t, &list)
			for i := range list {
				if list[i].Content != nil && strings.Contains(list[i].Content.Text, " from A #pecan") {
					return &list[i]
				}
			}
			return nil
		}
		waitFor(t, "the Note in bob's mentions on B", func() bool { return mention() != nil })
		got := mention()
		if want := "@bob@" + serverB.Addr() + " Hello from A #pecan"; got.Content.Text != want || got.User.Username != "alice@"+serverA.Addr() {
			t.Fatalf("on B: %q by %s, want %q by alice", got.Content.Text, got.User.Username, want)
		}
		if len(got.Content.Entities.Mentions) != 1 || got.Content.Entities.Mentions[0].ID != strconv.FormatInt(bob.user.ID, 10) {
			t.Fatalf("mentions on B %+v", got.Content.Entities.Mentions)
		}
		waitFor(t, "the delivery to show as delivered", func() bool {
			d := deliveriesOf(t, &r, serverA, alice.token, post.ID)
			return len(d) == 1 && d[0].Status == "delivered" && d[0].Kind == "activitypub"
		})

		serverA.Clock.Advance(10 * time.Second) // an edit comes a while after the post
		r.do(t, serverA, alice.token, "PUT", "/v1/posts/"+post.ID, map[string]any{"text": "Hello again from A #pecan"}).Expect(t, 201)
		waitFor(t, "the revision on B", func() bool {
			p := mention()
			return p != nil && strings.HasSuffix(p.Content.Text, "Hello again from A #pecan") && p.IsRevised
		})
		r.do(t, serverA, alice.token, "DELETE", "/v1/posts/"+post.ID, nil).Expect(t, 200)
		waitFor(t, "the delete on B", func() bool { return mention() == nil })
		if strings.Contains(serverB.Logs(), "inbox: refused") {
			t.Fatalf("B refused a delivery:\n%s", serverB.Logs())
		}
	})
}

// TestCrosspostCanonicalURL: a post that is itself a crosspost of one
// elsewhere (io.pnut.core.crosspost) keeps the raw, and its Note's url is
// the canonical URL.
func TestCrosspostCanonicalURL(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, allowPrivate)
		alice := newPoster(t, srv, "alice", models.UserHuman)
		const canonical = "https://blog.example/2026/11/hello"
		var post crosspostedPost
		alice.do(t, "POST", "/v1/posts?include_raw=1", map[string]any{
			"text": "Hello, mirrored", "raw": map[string]any{"io.pnut.core.crosspost": []any{map[string]any{"canonical_url": canonical}}},
		}).Expect(t, 201).Decode(t, &post)
		if !strings.Contains(string(post.Raw), canonical) {
			t.Fatalf("raw %s", post.Raw)
		}
		resp := srv.Do(t, apptest.Request{Method: "GET", Path: "/posts/" + post.ID, Header: http.Header{"Accept": {"application/activity+json"}}}).Expect(t, 200)
		var note struct {
			ID  string `json:"id"`
			URL string `json:"url"`
		}
		if err := json.Unmarshal(resp.Body, &note); err != nil || note.URL != canonical || note.ID != srv.URL+"/posts/"+post.ID {
			t.Fatalf("note %s (%v)", resp.Body, err)
		}
		plain := alice.mustPost(t, map[string]any{"text": "Hello, original"})
		resp = srv.Do(t, apptest.Request{Method: "GET", Path: "/posts/" + plain.ID, Header: http.Header{"Accept": {"application/activity+json"}}}).Expect(t, 200)
		if !strings.Contains(string(resp.Body), fmt.Sprintf(`"url":"%s/posts/%s"`, srv.URL, plain.ID)) {
			t.Fatalf("a post of its own is its own page: %s", resp.Body)
		}
	})
}
