package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/oauth"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// TestOAuthCodeFlowWithPKCE is the whole flow as a client app written with
// Go's standard OAuth client walks it: register, send the user to the
// consent page (a browser with cookies), get the code back, exchange it
// with the PKCE verifier, call the API.
func TestOAuthCodeFlowWithPKCE(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		conf := &oauth2.Config{
			ClientID: w.app.ClientID, ClientSecret: w.app.ClientSecret, RedirectURL: clientRedirect,
			Scopes:   []string{"basic", "stream"},
			Endpoint: oauth2.Endpoint{AuthURL: w.srv.URL + "/oauth/authorize", TokenURL: w.srv.URL + "/oauth/access_token"},
		}
		verifier := oauth2.GenerateVerifier()
		browser := browserClient(t)

		req, _ := http.NewRequest("GET", conf.AuthCodeURL("xyz", oauth2.S256ChallengeOption(verifier)), nil)
		consent := fetch(t, browser, req)
		if consent.status != 200 || !strings.Contains(consent.body, "Nutshell") || !strings.Contains(consent.body, "read your personal and unified streams") {
			t.Fatalf("consent page %d: %s", consent.status, consent.body)
		}
		for _, h := range []string{"Content-Security-Policy", "X-Frame-Options"} {
			if consent.header.Get(h) == "" {
				t.Fatalf("consent page without %s", h)
			}
		}
		code := codeFrom(t, w.signInAndApprove(t, browser, consent), "xyz")

		tok, err := conf.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		if !strings.HasPrefix(tok.AccessToken, "pcn_") || !strings.EqualFold(tok.TokenType, "bearer") {
			t.Fatalf("token %+v", tok)
		}

		var info struct {
			App struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"app"`
			Scopes []string `json:"scopes"`
			User   struct {
				Username string `json:"username"`
			} `json:"user"`
		}
		resp := w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok.AccessToken}).Expect(t, 200)
		resp.Decode(t, &info)
		if info.User.Username != "alice" || info.App.ID != w.app.ClientID || info.App.Name != "Nutshell" ||
			strings.Join(info.Scopes, ",") != "basic,stream" || resp.Header.Get("X-OAuth-Scopes") != "basic,stream" {
			t.Fatalf("token info %+v", info)
		}
		// Exactly the scopes granted: stream yes, write_post (which the app
		// registered but did not ask for) no.
		w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/streams/me", Token: tok.AccessToken}).Expect(t, 200)
		w.srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/posts", Token: tok.AccessToken, Body: map[string]any{"text": "hi"}}).
			ExpectError(t, 403, "scope_missing")
	})
}

// TestOAuthTokenResponseShape checks the fields pnut clients read.
func TestOAuthTokenResponseShape(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		code := w.authorizeCode(t, browserClient(t), "basic,write_post", verifier("1"))
		status, body := w.tokenCall(t, w.exchangeForm(code, verifier("1")))
		token, _ := body["token"].(map[string]any)
		if status != 200 || body["token_type"] != "bearer" || body["scope"] != "basic write_post" ||
			body["user_id"] != strconv.FormatInt(w.alice.ID, 10) || body["username"] != "alice" || token == nil || token["app"] == nil {
			t.Fatalf("token answer %d %v", status, body)
		}
		if _, enveloped := body["meta"]; enveloped {
			t.Fatalf("token answer wears the API envelope: %v", body)
		}
	})
}

func TestOAuthCodeRefusals(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		browser := browserClient(t)

		t.Run("wrong code_verifier", func(t *testing.T) {
			code := w.authorizeCode(t, browser, "basic", verifier("a"))
			status, body := w.tokenCall(t, w.exchangeForm(code, verifier("b")))
			expectTokenError(t, status, body, 400, "invalid_grant")
			status, body = w.tokenCall(t, w.exchangeForm(code, "too-short"))
			expectTokenError(t, status, body, 400, "invalid_grant")
			form := w.exchangeForm(code, "")
			form.Del("code_verifier")
			status, body = w.tokenCall(t, form)
			expectTokenError(t, status, body, 400, "invalid_request")
		})

		t.Run("reused code revokes its token", func(t *testing.T) {
			code := w.authorizeCode(t, browser, "basic", verifier("c"))
			first := w.accessToken(t, code, verifier("c"))
			w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: first}).Expect(t, 200)
			status, body := w.tokenCall(t, w.exchangeForm(code, verifier("c")))
			expectTokenError(t, status, body, 400, "invalid_grant")
			w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: first}).ExpectError(t, 401, "invalid_token")
		})

		t.Run("wrong redirect URI", func(t *testing.T) {
			code := w.authorizeCode(t, browser, "basic", verifier("d"))
			form := w.exchangeForm(code, verifier("d"))
			form.Set("redirect_uri", clientRedirect+"/elsewhere")
			status, body := w.tokenCall(t, form)
			expectTokenError(t, status, body, 400, "invalid_grant")

			// Asking for an unregistered redirect is shown to the user,
			// never redirected there.
			q := w.authQuery("basic", "s", verifier("d"))
			q.Set("redirect_uri", "https://evil.example/steal")
			p := w.open(t, browser, "/oauth/authorize", q)
			if p.status != 400 || p.location != nil || !strings.Contains(p.body, "redirect_uri") {
				t.Fatalf("unregistered redirect: %d %v %s", p.status, p.location, p.body)
			}
		})

		t.Run("expired code", func(t *testing.T) {
			code := w.authorizeCode(t, browser, "basic", verifier("e"))
			w.srv.Clock.Advance(config.Default().OAuth.CodeTTL + time.Second)
			status, body := w.tokenCall(t, w.exchangeForm(code, verifier("e")))
			expectTokenError(t, status, body, 400, "invalid_grant")
		})

		t.Run("scope escalation", func(t *testing.T) {
			// Beyond what the app registered: refused at the door.
			p := w.open(t, browser, "/oauth/authorize", w.authQuery("basic,follow", "s1", verifier("f")))
			redirectError(t, p, "invalid_scope", "s1")
			// Nor can the form be edited to ask for more.
			_, fields := consentForm(t, w.open(t, browser, "/oauth/authorize", w.authQuery("basic", "s2", verifier("f"))))
			fields.Set("scope", "basic,tokens")
			fields.Set("decision", "approve")
			redirectError(t, w.submit(t, browser, "/oauth/authorize", fields), "invalid_scope", "s2")
			// Nor does the exchange take a scope of its own.
			code := w.authorizeCode(t, browser, "basic", verifier("f"))
			form := w.exchangeForm(code, verifier("f"))
			form.Set("scope", "basic,write_post")
			status, body := w.tokenCall(t, form)
			if status != 200 || body["scope"] != "basic" {
				t.Fatalf("exchange with a scope: %d %v", status, body)
			}
		})

		t.Run("code of another app", func(t *testing.T) {
			other := w.registerApp(t, map[string]any{"name": "Other", "redirect_uris": []string{clientRedirect}})
			code := w.authorizeCode(t, browser, "basic", verifier("g"))
			form := w.exchangeForm(code, verifier("g"))
			form.Set("client_id", other.ClientID)
			form.Set("client_secret", other.ClientSecret)
			status, body := w.tokenCall(t, form)
			expectTokenError(t, status, body, 400, "invalid_grant")
			form.Set("client_secret", w.app.ClientSecret)
			status, body = w.tokenCall(t, form)
			expectTokenError(t, status, body, 401, "invalid_client")
		})

		t.Run("missing PKCE", func(t *testing.T) {
			q := w.authQuery("basic", "s3", verifier("h"))
			q.Del("code_challenge")
			redirectError(t, w.open(t, browser, "/oauth/authorize", q), "invalid_request", "s3")
			q = w.authQuery("basic", "s4", verifier("h"))
			q.Set("code_challenge_method", "plain")
			redirectError(t, w.open(t, browser, "/oauth/authorize", q), "invalid_request", "s4")
		})

		t.Run("denied", func(t *testing.T) {
			_, fields := consentForm(t, w.open(t, browser, "/oauth/authorize", w.authQuery("basic", "s5", verifier("i"))))
			fields.Set("decision", "deny")
			redirectError(t, w.submit(t, browser, "/oauth/authorize", fields), "access_denied", "s5")
		})
	})
}

// TestOAuthFormNeedsCSRFToken posts the consent form without its token,
// with a token but no cookie, and with another browser's token: each is
// refused, and no code goes anywhere.
func TestOAuthFormNeedsCSRFToken(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		browser := browserClient(t)
		_, fields := consentForm(t, w.open(t, browser, "/oauth/authorize", w.authQuery("basic", "s", verifier("a"))))
		fields.Set("username", "alice")
		fields.Set("password", alicePassword)
		fields.Set("decision", "approve")

		refused := func(name string, client *http.Client, form url.Values) {
			t.Helper()
			p := w.submit(t, client, "/oauth/authorize", form)
			if p.status != 403 || p.location != nil || !strings.Contains(p.body, "expired") {
				t.Fatalf("%s: %d %v %s", name, p.status, p.location, p.body)
			}
		}
		withoutToken := url.Values{}
		for k, v := range fields {
			withoutToken[k] = v
		}
		withoutToken.Del("csrf_token")
		refused("no token", browser, withoutToken)
		refused("no cookie", &http.Client{CheckRedirect: browser.CheckRedirect}, fields)
		attacker := browserClient(t)
		_, attackerFields := consentForm(t, w.open(t, attacker, "/oauth/authorize", w.authQuery("basic", "s", verifier("a"))))
		forged := url.Values{}
		for k, v := range fields {
			forged[k] = v
		}
		forged.Set("csrf_token", attackerFields.Get("csrf_token"))
		refused("another browser's token", browser, forged)

		// The same form with its own token goes through.
		codeFrom(t, w.submit(t, browser, "/oauth/authorize", fields), "s")
	})
}

func TestOAuthAuthenticateSkipsConsentOnceGranted(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		browser := browserClient(t)
		// Signed out, /oauth/authenticate asks like /oauth/authorize.
		p := w.open(t, browser, "/oauth/authenticate", w.authQuery("basic,stream", "s", verifier("a")))
		if p.status != 200 || p.location != nil {
			t.Fatalf("authenticate while signed out: %d %v", p.status, p.location)
		}
		codeFrom(t, w.signInAndApprove(t, browser, p), "s")

		// Signed in and already granted: straight back with a code.
		code := codeFrom(t, w.open(t, browser, "/oauth/authenticate", w.authQuery("basic", "again", verifier("b"))), "again")
		w.accessToken(t, code, verifier("b"))
		// /oauth/authorize always asks.
		if p := w.open(t, browser, "/oauth/authorize", w.authQuery("basic", "s", verifier("c"))); p.status != 200 || !strings.Contains(p.body, "@alice") {
			t.Fatalf("authorize while granted: %d %v", p.status, p.location)
		}
		// A scope not granted yet asks again.
		if p := w.open(t, browser, "/oauth/authenticate", w.authQuery("basic,write_post", "s", verifier("c"))); p.status != 200 || p.location != nil {
			t.Fatalf("authenticate with a new scope: %d %v", p.status, p.location)
		}
		// Another browser is not signed in.
		if p := w.open(t, browserClient(t), "/oauth/authenticate", w.authQuery("basic", "s", verifier("d"))); p.status != 200 || p.location != nil {
			t.Fatalf("authenticate in a fresh browser: %d %v", p.status, p.location)
		}
	})
}

func TestOAuthOutOfBandShowsTheCode(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		browser := browserClient(t)
		q := w.authQuery("basic", "s", verifier("a"))
		q.Set("redirect_uri", oauth.OOB)
		p := w.signInAndApprove(t, browser, w.open(t, browser, "/oauth/authorize", q))
		if p.status != 200 || p.location != nil {
			t.Fatalf("oob: %d %v %s", p.status, p.location, p.body)
		}
		start := strings.Index(p.body, `id="code">`)
		if start < 0 {
			t.Fatalf("oob page shows no code: %s", p.body)
		}
		code := p.body[start+len(`id="code">`):]
		code = code[:strings.Index(code, "<")]
		form := w.exchangeForm(code, verifier("a"))
		form.Set("redirect_uri", oauth.OOB)
		if status, body := w.tokenCall(t, form); status != 200 {
			t.Fatalf("exchange oob code: %d %v", status, body)
		}
	})
}

// TestOAuthRacingExchangesYieldOneToken sends one code many times at once:
// one exchange wins; the others are replays, so the winner's token is
// revoked too, as RFC 6749 §4.1.2 asks.
func TestOAuthRacingExchangesYieldOneToken(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		code := w.authorizeCode(t, browserClient(t), "basic", verifier("a"))
		form := w.exchangeForm(code, verifier("a")).Encode()
		var (
			mu      sync.Mutex
			won     []string
			refused int
			wg      sync.WaitGroup
		)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := w.srv.Send(apptest.Request{Method: "POST", Path: "/oauth/access_token", Body: form, ContentType: "application/x-www-form-urlencoded"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Error(err)
				case resp.Status == 200:
					won = append(won, string(resp.Body))
				case resp.Status == 400 && strings.Contains(string(resp.Body), "invalid_grant"):
					refused++
				default:
					t.Errorf("exchange answered %d %s", resp.Status, resp.Body)
				}
			}()
		}
		wg.Wait()
		if len(won) != 1 || refused != 15 {
			t.Fatalf("%d exchanges won, %d refused; want 1 and 15", len(won), refused)
		}
		token := won[0][strings.Index(won[0], "pcn_"):]
		token = token[:strings.Index(token, `"`)]
		w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: token}).ExpectError(t, 401, "invalid_token")
	})
}

func TestOAuthCookieFlags(t *testing.T) {
	for _, scheme := range []string{"https", "http"} {
		t.Run(scheme, func(t *testing.T) {
			w := newOAuthWorld(t, testenv.New(t, "sqlite"), func(c *config.Config) { c.Scheme = scheme })
			p := w.open(t, browserClient(t), "/oauth/authorize", w.authQuery("basic", "s", verifier("a")))
			cookie := p.header.Get("Set-Cookie")
			secure := strings.HasPrefix(cookie, "__Host-pecan_csrf=") && strings.Contains(cookie, "; Secure")
			if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") || secure != (scheme == "https") {
				t.Fatalf("%s: Set-Cookie %q", scheme, cookie)
			}
		})
	}
}

func TestPasswordGrantForTrustedAppsOnly(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		form := url.Values{
			"grant_type": {"password"}, "client_id": {w.app.ClientID}, "password_grant_secret": {"pcg_guess"},
			"username": {"alice"}, "password": {alicePassword}, "scope": {"basic,stream"},
		}
		status, body := w.tokenCall(t, form)
		expectTokenError(t, status, body, 400, "unauthorized_client")

		app, err := w.srv.App.OAuth.AppByClientID(context.Background(), w.app.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		secret, err := w.srv.App.OAuth.Trust(context.Background(), app)
		if err != nil {
			t.Fatal(err)
		}
		status, body = w.tokenCall(t, form)
		expectTokenError(t, status, body, 401, "invalid_client")

		form.Set("password_grant_secret", secret)
		form.Set("password", "wrong password")
		status, body = w.tokenCall(t, form)
		expectTokenError(t, status, body, 400, "invalid_grant")

		form.Set("password", alicePassword)
		form.Set("scope", "basic,follow")
		status, body = w.tokenCall(t, form)
		expectTokenError(t, status, body, 400, "invalid_scope")

		form.Set("scope", "basic,stream")
		status, body = w.tokenCall(t, form)
		if status != 200 || body["username"] != "alice" || body["scope"] != "basic stream" {
			t.Fatalf("password grant: %d %v", status, body)
		}
		tok := body["access_token"].(string)
		w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/streams/me", Token: tok}).Expect(t, 200)
	})
}

// TestAppTokensOnlyWhereAllowed uses a client-credentials token: it works on
// the routes pnut lets app tokens use and on public ones, and nowhere a user
// is needed.
func TestAppTokensOnlyWhereAllowed(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		status, body := w.tokenCall(t, url.Values{
			"grant_type": {"client_credentials"}, "client_id": {w.app.ClientID}, "client_secret": {w.app.ClientSecret},
		})
		tok, _ := body["access_token"].(string)
		if status != 200 || tok == "" || body["user_id"] != nil {
			t.Fatalf("client credentials: %d %v", status, body)
		}
		status, body = w.tokenCall(t, url.Values{
			"grant_type": {"client_credentials"}, "client_id": {w.app.ClientID}, "client_secret": {"pcs_wrong"},
		})
		expectTokenError(t, status, body, 401, "invalid_client")

		var info map[string]any
		w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok}).Expect(t, 200).Decode(t, &info)
		if info["user"] != nil || info["app"].(map[string]any)["id"] != w.app.ClientID {
			t.Fatalf("app token info %v", info)
		}
		for _, path := range []string{"/v1/users/@alice/followers", "/v1/users/@alice/following", "/v1/posts/streams/global", "/v1/users/@alice"} {
			w.srv.Do(t, apptest.Request{Method: "GET", Path: path, Token: tok}).Expect(t, 200)
		}
		for _, r := range []apptest.Request{
			{Method: "GET", Path: "/v1/posts/streams/me"},
			{Method: "GET", Path: "/v1/markers"},
			{Method: "POST", Path: "/v1/posts", Body: map[string]any{"text": "from an app"}},
			{Method: "GET", Path: "/v1/users/me/muted"},
			{Method: "GET", Path: "/v1/apps"},
		} {
			r.Token = tok
			w.srv.Do(t, r).ExpectError(t, 403, "user_token_required")
		}
	})
}

// TestSignInThrottling makes failed sign-ins pile up per account and per
// address; an unknown account is throttled exactly like a real one, and
// the page never tells the two apart.
func TestSignInThrottling(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b, func(c *config.Config) {
			c.RateLimits.SignInPerAccount = config.Rate{Count: 3, Period: 15 * time.Minute}
			c.RateLimits.SignInPerIP = config.Rate{Count: 8, Period: 15 * time.Minute}
		})
		attempt := func(username, password string) page {
			browser := browserClient(t)
			_, fields := consentForm(t, w.open(t, browser, "/oauth/authorize", w.authQuery("basic", "s", verifier("a"))))
			fields.Set("username", username)
			fields.Set("password", password)
			fields.Set("decision", "approve")
			return w.submit(t, browser, "/oauth/authorize", fields)
		}
		for _, name := range []string{"alice", "nobody"} {
			for i := range 3 {
				p := attempt(name, "wrong password")
				if p.status != 401 || p.location != nil || !strings.Contains(p.body, "Wrong username or password.") {
					t.Fatalf("%s attempt %d: %d %v", name, i, p.status, p.location)
				}
			}
			p := attempt(name, alicePassword)
			if p.status != 429 || p.header.Get("Retry-After") == "" || !strings.Contains(p.body, "Too many sign-in attempts") {
				t.Fatalf("%s after 3 failures: %d %s", name, p.status, p.body)
			}
		}
		// 8 attempts from this address so far: the next is refused whatever
		// the account.
		if p := attempt("carol", "whatever"); p.status != 429 {
			t.Fatalf("ninth attempt from one address: %d", p.status)
		}
		// Later, alice can sign in again (Redis keeps its own time, which
		// the test clock does not move).
		if b.RedisURL == "" {
			w.srv.Clock.Advance(15 * time.Minute)
			codeFrom(t, attempt("alice", alicePassword), "s")
		}
	})
}

// TestPasswordGrantThrottledUnderConcurrency fires many wrong passwords for
// one account at once: exactly the allowance is checked, the rest get 429.
func TestPasswordGrantThrottledUnderConcurrency(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b, func(c *config.Config) {
			c.RateLimits.SignInPerAccount = config.Rate{Count: 5, Period: time.Hour}
			c.RateLimits.SignInPerIP = config.Rate{Count: 1000, Period: time.Hour}
		})
		app, err := w.srv.App.OAuth.AppByClientID(context.Background(), w.app.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		secret, err := w.srv.App.OAuth.Trust(context.Background(), app)
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"grant_type": {"password"}, "client_id": {w.app.ClientID}, "password_grant_secret": {secret},
			"username": {"Alice"}, "password": {"wrong password"}}.Encode()
		var (
			mu     sync.Mutex
			counts = map[int]int{}
			wg     sync.WaitGroup
		)
		for range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := w.srv.Send(apptest.Request{Method: "POST", Path: "/oauth/access_token", Body: form, ContentType: "application/x-www-form-urlencoded"})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				counts[resp.Status]++
			}()
		}
		wg.Wait()
		if counts[400] != 5 || counts[429] != 25 {
			t.Fatalf("answers %v; want 5 checked (400) and 25 throttled (429)", counts)
		}
	})
}

// TestRevokingAnAuthorizationRevokesItsTokens lists what alice allowed and
// takes it back: every token the app held stops working, and a code it had
// not exchanged yet no longer can be.
func TestRevokingAnAuthorizationRevokesItsTokens(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		browser := browserClient(t)
		first := w.accessToken(t, w.authorizeCode(t, browser, "basic,stream", verifier("a")), verifier("a"))
		second := w.accessToken(t, w.authorizeCode(t, browser, "basic", verifier("b")), verifier("b"))
		pending := w.authorizeCode(t, browser, "basic", verifier("c"))
		own := w.srv.Token(t, w.alice, models.ScopeTokens)

		var list []struct {
			App struct {
				ID string `json:"id"`
			} `json:"app"`
			Scopes []string `json:"scopes"`
			Tokens []struct {
				ID string `json:"id"`
			} `json:"tokens"`
		}
		w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/tokens/apps", Token: own}).Expect(t, 200).Decode(t, &list)
		if len(list) != 1 || list[0].App.ID != w.app.ClientID || strings.Join(list[0].Scopes, ",") != "basic,stream" || len(list[0].Tokens) != 2 {
			t.Fatalf("authorizations %+v", list)
		}

		for _, tok := range []string{first, second} { // used, so remembered by the token cache
			w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok}).Expect(t, 200)
		}
		w.srv.Do(t, apptest.Request{Method: "DELETE", Path: "/v1/tokens/apps/" + w.app.ClientID, Token: own}).Expect(t, 200)
		for _, tok := range []string{first, second} {
			w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok}).ExpectError(t, 401, "invalid_token")
		}
		status, body := w.tokenCall(t, w.exchangeForm(pending, verifier("c")))
		expectTokenError(t, status, body, 400, "invalid_grant")
		w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/tokens/apps", Token: own}).Expect(t, 200).Decode(t, &list)
		if len(list) != 0 {
			t.Fatalf("authorizations after revoking: %+v", list)
		}
		w.srv.Do(t, apptest.Request{Method: "DELETE", Path: "/v1/tokens/apps/" + w.app.ClientID, Token: own}).
			ExpectError(t, 404, "authorization_not_found")
		// The personal token was not the app's, and still works.
		w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: own}).Expect(t, 200)
	})
}

func TestAppRegistration(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		if !strings.HasPrefix(w.app.ClientSecret, "pcs_") || w.app.ClientID == "" || len(w.app.RedirectURIs) != 2 {
			t.Fatalf("registered app %+v", w.app)
		}
		var got apiApp
		w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/apps/" + w.app.ID, Token: w.devToken}).Expect(t, 200).Decode(t, &got)
		if got.ClientSecret != "" || got.ClientID != w.app.ClientID {
			t.Fatalf("app read back %+v: the secret is shown once only", got)
		}
		var list []apiApp
		w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/apps", Token: w.devToken}).Expect(t, 200).Decode(t, &list)
		if len(list) != 1 {
			t.Fatalf("apps %+v", list)
		}

		for _, bad := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": "", "redirect_uris": []string{clientRedirect}}, "name"},
			{map[string]any{"name": "x", "redirect_uris": []string{"javascript:alert(1)"}}, "redirect_uris"},
			{map[string]any{"name": "x", "redirect_uris": "http://example.com/cb"}, "redirect_uris"},
			{map[string]any{"name": "x", "redirect_uris": []string{"https://example.com/cb#frag"}}, "redirect_uris"},
			{map[string]any{"name": "x", "scopes": "basic,root"}, "scopes"},
			{map[string]any{"name": "x", "website": "ftp://example.com"}, "website"},
		} {
			resp := w.srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/apps", Token: w.devToken, Body: bad.body}).Expect(t, 400)
			if resp.Meta["field"] != bad.field {
				t.Fatalf("%v: %s", bad.body, resp.Body)
			}
		}
		// Loopback and native-app redirects are fine, as a form post too.
		resp := w.srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/apps", Token: w.devToken,
			Body: "name=Native&redirect_uris=http%3A%2F%2F127.0.0.1%2Fcb+com.example.app%3A%2Fcb", ContentType: "application/x-www-form-urlencoded"})
		resp.Expect(t, 201)

		// Someone else's app is not yours to read or delete.
		mallory := w.srv.Token(t, w.srv.CreateUser(t, "mallory", models.UserHuman), models.ScopeTokens)
		w.srv.Do(t, apptest.Request{Method: "DELETE", Path: "/v1/apps/" + w.app.ID, Token: mallory}).ExpectError(t, 403, "not_yours")
		w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/apps", Token: mallory}).Expect(t, 200).Decode(t, &list)
		if len(list) != 0 {
			t.Fatalf("mallory sees %+v", list)
		}
	})
}

// TestDeletingAnAppEndsItsTokens: tokens, app tokens and codes of a deleted
// app stop working at once.
func TestDeletingAnAppEndsItsTokens(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		browser := browserClient(t)
		userToken := w.accessToken(t, w.authorizeCode(t, browser, "basic", verifier("a")), verifier("a"))
		pending := w.authorizeCode(t, browser, "basic", verifier("b"))
		_, body := w.tokenCall(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {w.app.ClientID}, "client_secret": {w.app.ClientSecret}})
		appToken := body["access_token"].(string)

		for _, tok := range []string{userToken, appToken} { // used, so remembered by the token cache
			w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok}).Expect(t, 200)
		}
		w.srv.Do(t, apptest.Request{Method: "DELETE", Path: "/v1/apps/" + w.app.ID, Token: w.devToken}).Expect(t, 200)
		for _, tok := range []string{userToken, appToken} {
			w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: tok}).ExpectError(t, 401, "invalid_token")
		}
		status, body := w.tokenCall(t, w.exchangeForm(pending, verifier("b")))
		expectTokenError(t, status, body, 401, "invalid_client")
		if p := w.open(t, browser, "/oauth/authorize", w.authQuery("basic", "s", verifier("c"))); p.status != 400 || p.location != nil {
			t.Fatalf("authorize for a deleted app: %d %v", p.status, p.location)
		}
	})
}

// TestTokensMintedByAnAppBelongToIt: an app holding the tokens scope cannot
// mint a personal token that outlives the user revoking the app.
func TestTokensMintedByAnAppBelongToIt(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		app := w.registerApp(t, map[string]any{"name": "Manager", "redirect_uris": []string{clientRedirect}, "scopes": "basic,tokens"})
		w.app = app
		tok := w.accessToken(t, w.authorizeCode(t, browserClient(t), "basic,tokens", verifier("a")), verifier("a"))
		var minted struct {
			Token string `json:"token"`
		}
		w.srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/tokens", Token: tok, Body: map[string]any{"scopes": "basic"}}).Expect(t, 201).Decode(t, &minted)
		own := w.srv.Token(t, w.alice, models.ScopeTokens)
		w.srv.Do(t, apptest.Request{Method: "DELETE", Path: "/v1/tokens/apps/" + app.ClientID, Token: own}).Expect(t, 200)
		w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: minted.Token}).ExpectError(t, 401, "invalid_token")
	})
}

// TestOAuthSignOut signs the browser out from the consent page: the page
// asks for a username again, and approving without one is refused.
func TestOAuthSignOut(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		w := newOAuthWorld(t, b)
		browser := browserClient(t)
		w.authorizeCode(t, browser, "basic", verifier("a"))
		p := w.open(t, browser, "/oauth/authorize", w.authQuery("basic", "s", verifier("b")))
		forms := pageForms(t, p)
		if len(forms) != 2 || forms[1].action != "/oauth/sign_out" || forms[0].fields.Has("username") {
			t.Fatalf("signed-in page forms %+v", forms)
		}
		back := w.submit(t, browser, "/oauth/sign_out", forms[1].fields)
		if back.status != 303 || back.location == nil || back.location.Path != "/oauth/authorize" {
			t.Fatalf("sign out: %d %v", back.status, back.location)
		}
		p = w.open(t, browser, back.location.Path, back.location.Query())
		_, fields := consentForm(t, p)
		if !fields.Has("username") || strings.Contains(p.body, "@alice") {
			t.Fatalf("page after signing out still signed in: %s", p.body)
		}
		fields.Set("decision", "approve")
		if p := w.submit(t, browser, "/oauth/authorize", fields); p.status != 401 || p.location != nil || !strings.Contains(p.body, "Enter your username and password.") {
			t.Fatalf("approve without signing in: %d %v", p.status, p.location)
		}
		// Sign-out only returns to this site's consent pages.
		evil := url.Values{"csrf_token": {forms[1].fields.Get("csrf_token")}, "return_to": {"https://evil.example/"}}
		if p := w.submit(t, browser, "/oauth/sign_out", evil); p.status != 200 || p.location != nil {
			t.Fatalf("sign out to elsewhere: %d %v", p.status, p.location)
		}
	})
}
