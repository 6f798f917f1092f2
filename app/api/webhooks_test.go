package api_test

import (
	"encoding/json"
	"errors"
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

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

type apiWebhook struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	URL            string            `json:"url"`
	Events         []string          `json:"events"`
	Headers        map[string]string `json:"headers"`
	RetryCount     int               `json:"retry_count"`
	TimeoutSeconds int               `json:"timeout_seconds"`
	Secret         string            `json:"secret"`
}

type apiDelivery struct {
	ID           string `json:"id"`
	MessageID    string `json:"message_id"`
	Event        string `json:"event"`
	Status       string `json:"status"`
	Attempts     int    `json:"attempts"`
	MaxAttempts  int    `json:"max_attempts"`
	ResponseCode *int   `json:"response_code"`
	LastError    string `json:"last_error"`
	DeliveredAt  string `json:"delivered_at"`
}

type webhookPayload struct {
	ID    string `json:"id"`
	Event struct {
		Type      string          `json:"type"`
		Data      json.RawMessage `json:"data"`
		Timestamp string          `json:"timestamp"`
		UserID    string          `json:"user_id"`
	} `json:"event"`
	Webhook struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"webhook"`
}

// received is one request a receiver got, checked as a third party would
// check it: with the Standard Webhooks library and the webhook's secret.
type received struct {
	Header   http.Header
	Body     []byte
	Payload  webhookPayload
	Verified error
}

// hookReceiver is a webhook endpoint in the test. answer picks the status
// for the n-th attempt (1-based) of a message id.
type hookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	secrets  []string
	got      []received
	attempts map[string]int
	answer   func(attempt int) int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{attempts: map[string]int{}, answer: func(int) int { return http.StatusNoContent }}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	rec := received{Header: req.Header.Clone(), Body: body, Verified: errors.New("no secret set")}
	_ = json.Unmarshal(body, &rec.Payload)
	r.mu.Lock()
	for _, secret := range r.secrets {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err == nil {
			if rec.Verified = wh.Verify(body, req.Header); rec.Verified == nil {
				break
			}
		}
	}
	r.got = append(r.got, rec)
	id := req.Header.Get("webhook-id")
	r.attempts[id]++
	status := r.answer(r.attempts[id])
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *hookReceiver) trust(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = secrets
}

func (r *hookReceiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func allowPrivate(c *config.Config) {
	c.RateLimits.Enabled = false
	c.Scheme = "http"
	c.Delivery.AllowPrivateAddresses = true
}

// hooker is a user with a token for webhooks and posts.
type hooker struct {
	poster
	hooks string
}

func newHooker(t *testing.T, srv *apptest.Server, name string) hooker {
	p := newPoster(t, srv, name, models.UserHuman)
	return hooker{poster: p, hooks: srv.Token(t, p.user, models.ScopeWebhooks, models.ScopeWritePost, models.ScopeFollow)}
}

func (h hooker) call(t *testing.T, method, path string, body any) *apptest.Response {
	t.Helper()
	return h.srv.Do(t, apptest.Request{Method: method, Path: path, Token: h.hooks, Body: body})
}

func (h hooker) createHook(t *testing.T, url string, events ...string) apiWebhook {
	t.Helper()
	var w apiWebhook
	h.call(t, "POST", "/v1/webhooks", map[string]any{"name": h.user.Username + "'s hook", "url": url, "events": events}).Expect(t, 201).Decode(t, &w)
	return w
}

func (h hooker) deliveries(t *testing.T, hookID string) []apiDelivery {
	t.Helper()
	var out []apiDelivery
	h.call(t, "GET", "/v1/webhooks/"+hookID+"/deliveries?count=200", nil).Expect(t, 200).Decode(t, &out)
	return out
}

func TestWebhookCRUDAndOwnership(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, allowPrivate)
		alice, bob := newHooker(t, srv, "alice"), newHooker(t, srv, "bob")
		recv := newHookReceiver(t)

		var w apiWebhook
		alice.call(t, "POST", "/v1/webhooks", map[string]any{
			"name": "CI", "url": recv.URL + "/hook", "events": []string{"post.created", "post.created", "mention.created"},
			"headers": map[string]string{"Authorization": "Bearer abc"}, "retry_count": 3, "timeout_seconds": 30,
		}).Expect(t, 201).Decode(t, &w)
		if !strings.HasPrefix(w.Secret, "whsec_") || len(w.Secret) < 40 || strings.Join(w.Events, ",") != "post.created,mention.created" ||
			w.RetryCount != 3 || w.TimeoutSeconds != 30 || w.Headers["Authorization"] != "Bearer abc" {
			t.Fatalf("created %+v", w)
		}
		var got apiWebhook
		alice.call(t, "GET", "/v1/webhooks/"+w.ID, nil).Expect(t, 200).Decode(t, &got)
		if got.Secret != "" || got.Name != "CI" {
			t.Fatalf("GET shows %+v (the secret only appears on create)", got)
		}
		var list []apiWebhook
		alice.call(t, "GET", "/v1/webhooks", nil).Expect(t, 200).Decode(t, &list)
		if len(list) != 1 || list[0].Secret != "" {
			t.Fatalf("list %+v", list)
		}
		alice.call(t, "PATCH", "/v1/webhooks/"+w.ID, map[string]any{"name": "Renamed", "events": []string{"user.followed"}}).Expect(t, 200).Decode(t, &got)
		if got.Name != "Renamed" || strings.Join(got.Events, ",") != "user.followed" || got.RetryCount != 3 || got.URL != w.URL {
			t.Fatalf("after PATCH %+v", got)
		}
		bob.call(t, "GET", "/v1/webhooks", nil).Expect(t, 200).Decode(t, &list)
		if len(list) != 0 {
			t.Fatalf("bob sees alice's webhooks: %+v", list)
		}
		for _, r := range []struct{ method, path string }{
			{"GET", ""}, {"PATCH", ""}, {"DELETE", ""}, {"POST", "/test"}, {"POST", "/rotate_secret"},
			{"GET", "/deliveries"}, {"POST", "/deliveries/1/redeliver"},
		} {
			bob.call(t, r.method, "/v1/webhooks/"+w.ID+r.path, map[string]any{}).ExpectError(t, 403, "not_yours")
		}
		noScope := srv.Token(t, alice.user, models.ScopeWritePost)
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/webhooks", Token: noScope}).ExpectError(t, 403, "scope_missing")
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/webhooks"}).ExpectError(t, 401, "token_missing")
		alice.call(t, "GET", "/v1/webhooks/abc", nil).ExpectError(t, 400, "invalid_webhook_id")

		alice.call(t, "DELETE", "/v1/webhooks/"+w.ID, nil).Expect(t, 200)
		alice.call(t, "GET", "/v1/webhooks/"+w.ID, nil).ExpectError(t, 404, "webhook_not_found")
	})
}

func TestWebhookInputErrors(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, allowPrivate)
		alice := newHooker(t, srv, "alice")
		good := map[string]any{"name": "n", "url": "http://127.0.0.1:9/", "events": []string{"post.created"}}
		with := func(key string, value any) map[string]any {
			m := map[string]any{}
			for k, v := range good {
				m[k] = v
			}
			if value == nil {
				delete(m, key)
			} else {
				m[key] = value
			}
			return m
		}
		cases := []struct {
			body        map[string]any
			code, field string
		}{
			{with("name", nil), "invalid_name", "name"},
			{with("name", "  "), "invalid_name", "name"},
			{with("name", strings.Repeat("n", 101)), "invalid_name", "name"},
			{with("url", nil), "invalid_url", "url"},
			{with("url", "ftp://example.com/"), "invalid_url", "url"},
			{with("url", "not a url"), "invalid_url", "url"},
			{with("events", nil), "invalid_events", "events"},
			{with("events", []string{}), "invalid_events", "events"},
			{with("events", []string{"post.exploded"}), "invalid_events", "events"},
			{with("retry_count", 11), "invalid_retry_count", "retry_count"},
			{with("retry_count", -1), "invalid_retry_count", "retry_count"},
			{with("timeout_seconds", 4), "invalid_timeout_seconds", "timeout_seconds"},
			{with("timeout_seconds", 301), "invalid_timeout_seconds", "timeout_seconds"},
			{with("retry_count", "many"), "invalid_type", "retry_count"},
			{with("headers", map[string]string{"webhook-signature": "x"}), "invalid_headers", "headers"},
			{with("headers", map[string]string{"Bad Name": "x"}), "invalid_headers", "headers"},
			{with("headers", map[string]string{"X-Ok": "line\nbreak"}), "invalid_headers", "headers"},
		}
		for _, c := range cases {
			resp := alice.call(t, "POST", "/v1/webhooks", c.body).ExpectError(t, 400, c.code)
			if resp.Meta["field"] != c.field {
				t.Errorf("%v: field %v, want %s", c.body, resp.Meta["field"], c.field)
			}
		}
		// Limits at their edges are accepted; a form body works too.
		alice.call(t, "POST", "/v1/webhooks", with("retry_count", 0)).Expect(t, 201)
		alice.call(t, "POST", "/v1/webhooks", with("timeout_seconds", 300)).Expect(t, 201)
		form := "name=form&url=http%3A%2F%2F127.0.0.1%3A9%2F&events=post.created%2Cuser.followed"
		var w apiWebhook
		srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/webhooks", Token: alice.hooks, Body: form, ContentType: "application/x-www-form-urlencoded"}).Expect(t, 201).Decode(t, &w)
		if strings.Join(w.Events, ",") != "post.created,user.followed" {
			t.Fatalf("form events %v", w.Events)
		}
		for i := 3; i < 20; i++ {
			alice.call(t, "POST", "/v1/webhooks", good).Expect(t, 201)
		}
		alice.call(t, "POST", "/v1/webhooks", good).ExpectError(t, 409, "too_many_webhooks")
	})
}

// TestWebhookURLsMustBePublic: unless the operator allows private
// addresses, a webhook cannot point into the server's own network.
func TestWebhookURLsMustBePublic(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, func(c *config.Config) { c.RateLimits.Enabled = false })
		alice := newHooker(t, srv, "alice")
		for _, url := range []string{
			"http://127.0.0.1/hook", "http://[::1]:8080/hook", "http://10.0.0.1/hook", "http://192.168.0.10/",
			"http://169.254.169.254/latest/meta-data/", "http://localhost:9000/hook", "http://0.0.0.0/",
			"http://[::ffff:127.0.0.1]/",
		} {
			alice.call(t, "POST", "/v1/webhooks", map[string]any{"name": "x", "url": url, "events": []string{"post.created"}}).ExpectError(t, 400, "invalid_url")
		}
	})
}

// TestWebhookDeliveriesVerify: every delivery a receiver gets verifies with
// the Standard Webhooks library, carries its message id in the header and
// the body alike, and reaches the right users' webhooks; a tampered body or
// a replay with an old timestamp does not verify.
func TestWebhookDeliveriesVerify(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, allowPrivate)
		alice, bob := newHooker(t, srv, "alice"), newHooker(t, srv, "bob")
		aliceRecv, bobRecv := newHookReceiver(t), newHookReceiver(t)
		aliceHook := alice.createHook(t, aliceRecv.URL, models.WebhookEvents...)
		bobHook := bob.createHook(t, bobRecv.URL, "mention.created", "user.followed", "post.reposted")
		aliceRecv.trust(aliceHook.Secret)
		bobRecv.trust(bobHook.Secret)

		p := alice.mustPost(t, map[string]any{"text": "hello @bob #pecan"})
		alice.call(t, "PUT", "/v1/users/@bob/follow", nil).Expect(t, 200)
		bob.call(t, "PUT", "/v1/posts/"+p.ID+"/repost", nil).Expect(t, 201)

		waitFor(t, "five deliveries", func() bool { return len(aliceRecv.all()) == 2 && len(bobRecv.all()) == 3 })
		check := func(recv *hookReceiver, hook apiWebhook, want []string) {
			var types []string
			for _, r := range recv.all() {
				if r.Verified != nil {
					t.Fatalf("delivery %s does not verify: %v", r.Payload.Event.Type, r.Verified)
				}
				if r.Payload.ID == "" || r.Header.Get("webhook-id") != r.Payload.ID || r.Header.Get("X-Webhook-Event") != r.Payload.Event.Type {
					t.Fatalf("headers %v do not match payload %+v", r.Header, r.Payload)
				}
				if r.Payload.Webhook.ID != hook.ID || r.Header.Get("Content-Type") != "application/json" || !strings.HasPrefix(r.Header.Get("User-Agent"), "Pecan/") {
					t.Fatalf("delivery %+v with headers %v", r.Payload, r.Header)
				}
				types = append(types, r.Payload.Event.Type)
			}
			slices.Sort(types)
			if strings.Join(types, ",") != strings.Join(want, ",") {
				t.Fatalf("webhook %s got %v, want %v", hook.Name, types, want)
			}
		}
		check(aliceRecv, aliceHook, []string{"post.created", "post.reposted"})
		check(bobRecv, bobHook, []string{"mention.created", "post.reposted", "user.followed"})

		for _, r := range bobRecv.all() {
			switch r.Payload.Event.Type {
			case "mention.created":
				var post apiPost
				if err := json.Unmarshal(r.Payload.Event.Data, &post); err != nil || post.ID != p.ID || post.Content.Text != "hello @bob #pecan" || r.Payload.Event.UserID != strconv.FormatInt(alice.user.ID, 10) {
					t.Fatalf("mention payload %s (%v)", r.Body, err)
				}
			case "user.followed":
				var follower struct{ Username string }
				if err := json.Unmarshal(r.Payload.Event.Data, &follower); err != nil || follower.Username != "alice" {
					t.Fatalf("follow payload %s", r.Body)
				}
			case "post.reposted":
				var repost apiPost
				if err := json.Unmarshal(r.Payload.Event.Data, &repost); err != nil || repost.RepostOf == nil || repost.RepostOf.ID != p.ID || repost.User.Username != "bob" {
					t.Fatalf("repost payload %s", r.Body)
				}
			}
		}

		first := aliceRecv.all()[0]
		wh, _ := standardwebhooks.NewWebhook(aliceHook.Secret)
		tampered := append([]byte{}, first.Body...)
		tampered[len(tampered)/2] ^= 1
		if err := wh.Verify(tampered, first.Header); err == nil {
			t.Fatal("a tampered body verified")
		}
		old := first.Header.Clone()
		at := time.Now().Add(-10 * time.Minute)
		sig, _ := wh.Sign(first.Header.Get("webhook-id"), at, first.Body)
		old.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
		old.Set("webhook-signature", sig)
		if err := wh.Verify(first.Body, old); !errors.Is(err, standardwebhooks.ErrMessageTooOld) {
			t.Fatalf("a replay ten minutes late: %v, want ErrMessageTooOld", err)
		}
		otherSecret, _ := standardwebhooks.NewWebhook(bobHook.Secret)
		if err := otherSecret.Verify(first.Body, first.Header); err == nil {
			t.Fatal("a delivery verified with another webhook's secret")
		}
	})
}

// TestEventsBecomeDeliveriesWithTheirChange: each change queues its
// deliveries in its own transaction, for exactly the webhooks that should
// hear of it; a refused change queues nothing.
func TestEventsBecomeDeliveriesWithTheirChange(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.StartWith(t, b, apptest.Options{ManualDelivery: true}, allowPrivate)
		alice, bob := newHooker(t, srv, "alice"), newHooker(t, srv, "bob")
		aliceHook := alice.createHook(t, "http://127.0.0.1:9/a", models.WebhookEvents...)
		bobHook := bob.createHook(t, "http://127.0.0.1:9/b", models.WebhookEvents...)

		p := alice.mustPost(t, map[string]any{"text": "hello @bob and @bob"})
		alice.do(t, "PUT", "/v1/posts/"+p.ID, map[string]any{"text": "hello, @bob and @bob"}).Expect(t, 201)
		bob.do(t, "PUT", "/v1/posts/"+p.ID+"/repost", nil).Expect(t, 201)
		bob.do(t, "PUT", "/v1/posts/"+p.ID+"/bookmark", nil).Expect(t, 200)
		bob.call(t, "PUT", "/v1/users/@alice/follow", nil).Expect(t, 200)
		alice.do(t, "DELETE", "/v1/posts/"+p.ID, nil).Expect(t, 200)
		alice.post(t, map[string]any{"text": strings.Repeat("x", 300)}).ExpectError(t, 400, "text_too_long")
		alice.post(t, map[string]any{"text": "hello @bob and @bob"}).ExpectError(t, 409, "duplicate_post")

		events := func(h hooker, hook apiWebhook) string {
			var out []string
			for _, d := range h.deliveries(t, hook.ID) {
				if d.Status != "pending" || d.Attempts != 0 {
					t.Fatalf("delivery %+v was sent with no workers running", d)
				}
				out = append(out, d.Event)
			}
			slices.Reverse(out) // oldest first
			return strings.Join(out, ",")
		}
		if got, want := events(alice, aliceHook), "post.created,post.revised,post.reposted,post.bookmarked,user.followed,post.deleted"; got != want {
			t.Fatalf("alice's webhook: %s, want %s", got, want)
		}
		if got, want := events(bob, bobHook), "mention.created,post.reposted,post.bookmarked"; got != want {
			t.Fatalf("bob's webhook: %s, want %s", got, want)
		}
	})
}

// TestPostsAreHeardAsWebhooksComeAndGo: a post no one hears of is stored
// without its events, and so is spared a transaction; one that a webhook
// hears of is not, whether the webhook is its author's or a mentioned
// user's, new since the author's last post, gone, or back again. Each
// post still counts once on its author.
func TestPostsAreHeardAsWebhooksComeAndGo(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.StartWith(t, b, apptest.Options{ManualDelivery: true}, allowPrivate)
		alice, bob := newHooker(t, srv, "alice"), newHooker(t, srv, "bob")
		posted := 0
		post := func(text string) {
			t.Helper()
			p := alice.mustPost(t, map[string]any{"text": text})
			if posted++; p.User == nil || p.User.Counts.Posts != posted {
				t.Fatalf("%q: the author counts %+v posts, want %d", text, p.User, posted)
			}
		}
		count := func(h hooker, hook apiWebhook) int { return len(h.deliveries(t, hook.ID)) }

		post("no one listens")
		bobs := bob.createHook(t, "http://127.0.0.1:9/b", "mention.created")
		post("hello @bob")
		first := alice.createHook(t, "http://127.0.0.1:9/a", "post.created")
		post("now a webhook of mine listens")
		if n := count(alice, first); n != 1 {
			t.Errorf("alice's first webhook has %d deliveries, want the post's", n)
		}
		alice.call(t, "DELETE", "/v1/webhooks/"+first.ID, nil).Expect(t, 200)
		post("no one again")
		second := alice.createHook(t, "http://127.0.0.1:9/a2", "post.created")
		post("and heard again")

		if n := count(bob, bobs); n != 1 {
			t.Errorf("bob's webhook has %d deliveries, want the mention's", n)
		}
		if n := count(alice, second); n != 1 {
			t.Errorf("alice's second webhook has %d deliveries, want the last post's", n)
		}
		var stored int
		if err := srv.App.DB.Bun.NewSelect().Table("posts").ColumnExpr("count(*)").Where("user_id = ?", alice.user.ID).Scan(t.Context(), &stored); err != nil || stored != posted {
			t.Fatalf("%d posts stored (%v), want %d", stored, err, posted)
		}
	})
}

// TestDeliveriesLeaveWithoutWaitingForThePoll polls the queue once an
// hour: a post's delivery is sent when its transaction commits, and a
// follow's too, not at the next poll.
func TestDeliveriesLeaveWithoutWaitingForThePoll(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b, allowPrivate, func(c *config.Config) { c.Delivery.PollInterval = time.Hour })
		alice, bob := newHooker(t, srv, "alice"), newHooker(t, srv, "bob")
		recv := newHookReceiver(t)
		recv.trust(alice.createHook(t, recv.URL, "post.created", "user.followed").Secret)

		alice.mustPost(t, map[string]any{"text": "straight out"})
		waitFor(t, "the post's delivery", func() bool { return len(recv.all()) == 1 })
		bob.call(t, "PUT", "/v1/users/@alice/follow", nil).Expect(t, 200)
		waitFor(t, "the follow's delivery", func() bool { return len(recv.all()) == 2 })
		for _, r := range recv.all() {
			if r.Verified != nil {
				t.Fatalf("%s delivery does not verify: %v", r.Payload.Event.Type, r.Verified)
			}
		}
	})
}

// TestWebhookTestRedeliverAndRotate drives the queue by hand: a test event,
// its redelivery with the same id, and a secret rotation that keeps the old
// secret valid beside the new one.
func TestWebhookTestRedeliverAndRotate(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.StartWith(t, b, apptest.Options{ManualDelivery: true}, allowPrivate)
		alice := newHooker(t, srv, "alice")
		recv := newHookReceiver(t)
		hook := alice.createHook(t, recv.URL, "post.created")
		recv.trust(hook.Secret)

		var d apiDelivery
		alice.call(t, "POST", "/v1/webhooks/"+hook.ID+"/test", nil).Expect(t, 201).Decode(t, &d)
		if d.Event != "test.event" || d.Status != "pending" || d.MaxAttempts != 6 {
			t.Fatalf("test delivery %+v", d)
		}
		alice.call(t, "POST", "/v1/webhooks/"+hook.ID+"/deliveries/"+d.ID+"/redeliver", nil).ExpectError(t, 409, "delivery_pending")
		drain(t, srv, 1)
		list := alice.deliveries(t, hook.ID)
		if len(list) != 1 || list[0].Status != "delivered" || list[0].Attempts != 1 || list[0].ResponseCode == nil || *list[0].ResponseCode != 204 || list[0].DeliveredAt == "" {
			t.Fatalf("after delivery: %+v", list)
		}
		alice.call(t, "POST", "/v1/webhooks/"+hook.ID+"/deliveries/"+d.ID+"/redeliver", nil).Expect(t, 200)
		drain(t, srv, 1)
		got := recv.all()
		if len(got) != 2 || got[0].Header.Get("webhook-id") != got[1].Header.Get("webhook-id") || got[1].Verified != nil {
			t.Fatalf("redelivery: %d requests, ids %q and %q", len(got), got[0].Header.Get("webhook-id"), got[len(got)-1].Header.Get("webhook-id"))
		}
		alice.call(t, "POST", "/v1/webhooks/"+hook.ID+"/deliveries/999999/redeliver", nil).ExpectError(t, 404, "delivery_not_found")

		// Custom headers are read when a delivery is sent: a change reaches
		// what is already queued.
		alice.mustPost(t, map[string]any{"text": "queued before the header changed"})
		alice.call(t, "PATCH", "/v1/webhooks/"+hook.ID, map[string]any{"headers": map[string]string{"Authorization": "Bearer new"}}).Expect(t, 200)
		drain(t, srv, 1)
		if got := recv.all()[2].Header.Get("Authorization"); got != "Bearer new" {
			t.Fatalf("custom header %q", got)
		}

		var rotated apiWebhook
		alice.call(t, "POST", "/v1/webhooks/"+hook.ID+"/rotate_secret", nil).Expect(t, 200).Decode(t, &rotated)
		if rotated.Secret == "" || rotated.Secret == hook.Secret {
			t.Fatalf("rotation gave %q", rotated.Secret)
		}
		alice.mustPost(t, map[string]any{"text": "after the rotation"})
		drain(t, srv, 1)
		last := recv.all()[3]
		for _, secret := range []string{hook.Secret, rotated.Secret} {
			wh, _ := standardwebhooks.NewWebhook(secret)
			if err := wh.Verify(last.Body, last.Header); err != nil {
				t.Fatalf("during the overlap a delivery must verify with both secrets: %v", err)
			}
		}
		srv.Clock.Advance(25 * time.Hour)
		alice.mustPost(t, map[string]any{"text": "a day later"})
		drain(t, srv, 1)
		latest := recv.all()[4]
		old, _ := standardwebhooks.NewWebhook(hook.Secret)
		if err := old.VerifyIgnoringTimestamp(latest.Body, latest.Header); err == nil {
			t.Fatal("the replaced secret still signs after the overlap")
		}
		current, _ := standardwebhooks.NewWebhook(rotated.Secret)
		if err := current.VerifyIgnoringTimestamp(latest.Body, latest.Header); err != nil {
			t.Fatalf("the new secret: %v", err)
		}
	})
}

func drain(t *testing.T, srv *apptest.Server, want int) {
	t.Helper()
	n, err := srv.App.Delivery.Drain(t.Context())
	if err != nil || n != want {
		t.Fatalf("worked %d deliveries (%v), want %d", n, err, want)
	}
}

// TestWebhookBackoffIsObservableAndBounded: with a receiver that always
// fails, attempts come at the backoff schedule (read from the signed
// timestamps, on the test's clock), and after retry_count retries the
// delivery is failed and says why.
func TestWebhookBackoffIsObservableAndBounded(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.StartWith(t, b, apptest.Options{ManualDelivery: true}, allowPrivate)
		alice := newHooker(t, srv, "alice")
		recv := newHookReceiver(t)
		recv.answer = func(int) int { return http.StatusServiceUnavailable }
		var hook apiWebhook
		alice.call(t, "POST", "/v1/webhooks", map[string]any{"name": "flaky", "url": recv.URL, "events": []string{"post.created"}, "retry_count": 2}).Expect(t, 201).Decode(t, &hook)
		alice.mustPost(t, map[string]any{"text": "retry me"})

		base := srv.App.Config.Delivery.BackoffBase
		for attempt := 1; attempt <= 3; attempt++ {
			drain(t, srv, 1)
			list := alice.deliveries(t, hook.ID)
			if attempt < 3 {
				if list[0].Status != "pending" {
					t.Fatalf("after attempt %d: %+v", attempt, list[0])
				}
				drain(t, srv, 0) // not due yet
				id, _ := strconv.ParseInt(list[0].ID, 10, 64)
				d, err := srv.App.DB.DeliveryByID(t.Context(), id)
				if err != nil {
					t.Fatal(err)
				}
				srv.Clock.Advance(d.NextAttemptAt.Sub(srv.Clock.Now())) // to the moment it is due
			}
		}
		var sent []int64
		for _, r := range recv.all() {
			ts, _ := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
			sent = append(sent, ts)
		}
		for i := 1; i < len(sent); i++ {
			gap := time.Duration(sent[i]-sent[i-1]) * time.Second
			// Timestamps are whole seconds: allow one second either way.
			lo := base << (i - 1)
			if hi := lo + lo/4; gap < lo-time.Second || gap > hi+time.Second {
				t.Fatalf("attempt %d came %s after the one before; the schedule allows %s to %s", i+1, gap, lo, hi)
			}
		}
		list := alice.deliveries(t, hook.ID)
		d := list[0]
		if len(sent) != 3 || d.Status != "failed" || d.Attempts != 3 || d.ResponseCode == nil || *d.ResponseCode != 503 || !strings.Contains(d.LastError, "503") {
			t.Fatalf("%d attempts; delivery %+v", len(sent), d)
		}
		srv.Clock.Advance(48 * time.Hour)
		drain(t, srv, 0)

		metrics := string(srv.Do(t, apptest.Request{Method: "GET", Path: "/metrics"}).Body)
		for _, want := range []string{
			`pecan_delivery_queue_depth{kind="webhook",status="failed"} 1`,
			`pecan_delivery_queue_depth{kind="webhook",status="pending"} 0`,
			`pecan_delivery_outcomes_total{kind="webhook",outcome="retry"} 2`,
			`pecan_delivery_outcomes_total{kind="webhook",outcome="failed"} 1`,
			`pecan_delivery_attempts_total{kind="webhook"} 3`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

// TestDeletingAWebhookDropsWhatItHadLeft: nothing more is sent to a URL
// whose webhook is gone.
func TestDeletingAWebhookDropsWhatItHadLeft(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.StartWith(t, b, apptest.Options{ManualDelivery: true}, allowPrivate)
		alice := newHooker(t, srv, "alice")
		recv := newHookReceiver(t)
		hook := alice.createHook(t, recv.URL, "post.created")
		for i := range 3 {
			alice.mustPost(t, map[string]any{"text": fmt.Sprintf("post %d", i)})
		}
		alice.call(t, "DELETE", "/v1/webhooks/"+hook.ID, nil).Expect(t, 200)
		drain(t, srv, 0)
		if len(recv.all()) != 0 {
			t.Fatal("a deleted webhook's deliveries were sent")
		}
	})
}
