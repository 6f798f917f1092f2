package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/oauth"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// alicePassword is the password apptest gives every user it creates.
const alicePassword = "correct horse"

// oauthWorld is a server with a developer who registered an app, and a
// user, alice, who will sign in to it.
type oauthWorld struct {
	srv      *apptest.Server
	alice    *models.User
	devToken string
	app      apiApp
}

type apiApp struct {
	ID           string   `json:"id"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirect_uris"`
	Scopes       []string `json:"scopes"`
}

// clientRedirect is where the test app wants its users sent back. The Go
// tests read it from the Location header and never fetch it.
const clientRedirect = "https://nutshell.example/callback"

// overHTTP runs the server on plain http, as test servers are, so the
// cookie jar sends its cookies back.
func overHTTP(c *config.Config) {
	c.Scheme = "http"
	c.Delivery.AllowPrivateAddresses = true
}

func newOAuthWorld(t *testing.T, b testenv.Backend, configure ...func(*config.Config)) *oauthWorld {
	t.Helper()
	srv := apptest.Start(t, b, append([]func(*config.Config){overHTTP}, configure...)...)
	dev := srv.CreateUser(t, "dev", models.UserHuman)
	w := &oauthWorld{srv: srv, alice: srv.CreateUser(t, "alice", models.UserHuman), devToken: srv.Token(t, dev, models.ScopeTokens)}
	w.app = w.registerApp(t, map[string]any{
		"name": "Nutshell", "website": "https://nutshell.example",
		"redirect_uris": []string{clientRedirect, oauth.OOB}, "scopes": []string{"basic", "stream", "write_post"},
	})
	return w
}

func (w *oauthWorld) registerApp(t *testing.T, body map[string]any) apiApp {
	t.Helper()
	var app apiApp
	w.srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/apps", Token: w.devToken, Body: body}).Expect(t, 201).Decode(t, &app)
	return app
}

// browserClient is a Go HTTP client that keeps cookies like a browser and
// shows redirects to the test instead of following them.
func browserClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// authQuery is an authorization request for the world's app.
func (w *oauthWorld) authQuery(scope, state, verifier string) url.Values {
	return url.Values{
		"client_id": {w.app.ClientID}, "redirect_uri": {clientRedirect}, "response_type": {"code"},
		"scope": {scope}, "state": {state},
		"code_challenge": {oauth.S256(verifier)}, "code_challenge_method": {"S256"},
	}
}

type page struct {
	status   int
	header   http.Header
	body     string
	location *url.URL // the redirect, if any
}

func fetch(t *testing.T, client *http.Client, req *http.Request) page {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, header: resp.Header, body: string(body)}
	if loc := resp.Header.Get("Location"); loc != "" {
		if p.location, err = url.Parse(loc); err != nil {
			t.Fatalf("bad Location %q", loc)
		}
	}
	return p
}

// open GETs an OAuth page.
func (w *oauthWorld) open(t *testing.T, client *http.Client, path string, q url.Values) page {
	t.Helper()
	req, err := http.NewRequest("GET", w.srv.URL+path+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return fetch(t, client, req)
}

// submit POSTs a form as a browser would.
func (w *oauthWorld) submit(t *testing.T, client *http.Client, path string, form url.Values) page {
	t.Helper()
	req, err := http.NewRequest("POST", w.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return fetch(t, client, req)
}

// consentForm reads the fields of the page's consent form (its first), as
// a browser would send them (without the buttons).
func consentForm(t *testing.T, p page) (action string, fields url.Values) {
	t.Helper()
	if p.status != http.StatusOK && p.status != http.StatusUnauthorized && p.status != http.StatusTooManyRequests {
		t.Fatalf("consent page answered %d: %s", p.status, p.body)
	}
	forms := pageForms(t, p)
	if len(forms) == 0 {
		t.Fatalf("no form on the page: %s", p.body)
	}
	return forms[0].action, forms[0].fields
}

type htmlForm struct {
	action string
	fields url.Values
}

// pageForms reads every form on a page with its input fields.
func pageForms(t *testing.T, p page) []htmlForm {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	var forms []htmlForm
	var walk func(n *html.Node, form *htmlForm)
	walk = func(n *html.Node, form *htmlForm) {
		if n.Type == html.ElementNode && n.Data == "form" {
			forms = append(forms, htmlForm{action: attr(n, "action"), fields: url.Values{}})
			form = &forms[len(forms)-1]
		}
		if form != nil && n.Type == html.ElementNode && n.Data == "input" {
			form.fields.Set(attr(n, "name"), attr(n, "value"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, form)
		}
	}
	walk(doc, nil)
	return forms
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// signInAndApprove fills in the consent form as alice and approves.
func (w *oauthWorld) signInAndApprove(t *testing.T, client *http.Client, p page) page {
	t.Helper()
	action, fields := consentForm(t, p)
	if fields.Has("username") {
		fields.Set("username", "alice")
		fields.Set("password", alicePassword)
	}
	fields.Set("decision", "approve")
	return w.submit(t, client, action, fields)
}

// authorizeCode walks the page as alice and returns the code the app got.
func (w *oauthWorld) authorizeCode(t *testing.T, client *http.Client, scope, verifier string) string {
	t.Helper()
	p := w.signInAndApprove(t, client, w.open(t, client, "/oauth/authorize", w.authQuery(scope, "st", verifier)))
	return codeFrom(t, p, "st")
}

// codeFrom checks a redirect to the app carries a code and the state.
func codeFrom(t *testing.T, p page, state string) string {
	t.Helper()
	if p.location == nil || !strings.HasPrefix(p.location.String(), clientRedirect+"?") {
		t.Fatalf("want a redirect to %s, got %d %v: %s", clientRedirect, p.status, p.location, p.body)
	}
	q := p.location.Query()
	if q.Get("state") != state || q.Get("code") == "" || q.Get("error") != "" {
		t.Fatalf("redirect %s, want a code and state %q", p.location, state)
	}
	return q.Get("code")
}

// redirectError checks a redirect to the app carries an error and the state.
func redirectError(t *testing.T, p page, code, state string) {
	t.Helper()
	if p.location == nil || !strings.HasPrefix(p.location.String(), clientRedirect+"?") {
		t.Fatalf("want an error redirect to %s, got %d %v: %s", clientRedirect, p.status, p.location, p.body)
	}
	q := p.location.Query()
	if q.Get("error") != code || q.Get("error_description") == "" || q.Get("state") != state || q.Has("code") {
		t.Fatalf("redirect %s, want error=%s with a description and state %q", p.location, code, state)
	}
}

// exchangeForm is a code exchange by the world's app.
func (w *oauthWorld) exchangeForm(code, verifier string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "client_id": {w.app.ClientID}, "client_secret": {w.app.ClientSecret},
		"code": {code}, "redirect_uri": {clientRedirect}, "code_verifier": {verifier},
	}
}

// tokenCall POSTs to the token endpoint and decodes the JSON answer. It
// uses the /v1 path so that apptest checks each answer against the OpenAPI
// document; the oauth2 library's test covers the root path.
func (w *oauthWorld) tokenCall(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	resp := w.srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/oauth/access_token", Body: form.Encode(),
		ContentType: "application/x-www-form-urlencoded"})
	var body map[string]any
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		t.Fatalf("token endpoint answered %d with non-JSON %q", resp.Status, resp.Body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token endpoint answer is cacheable: %v", resp.Header)
	}
	return resp.Status, body
}

// expectTokenError checks an RFC 6749 §5.2 error.
func expectTokenError(t *testing.T, status int, body map[string]any, wantStatus int, wantError string) {
	t.Helper()
	if status != wantStatus || body["error"] != wantError || body["error_description"] == "" || body["access_token"] != nil {
		t.Fatalf("token endpoint: %d %v; want %d error=%s", status, body, wantStatus, wantError)
	}
}

// accessToken exchanges a code and returns the token, failing otherwise.
func (w *oauthWorld) accessToken(t *testing.T, code, verifier string) string {
	t.Helper()
	status, body := w.tokenCall(t, w.exchangeForm(code, verifier))
	tok, _ := body["access_token"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("exchange: %d %v", status, body)
	}
	return tok
}

// verifier makes a PKCE code verifier (43+ characters) that differs per n.
func verifier(n string) string {
	return "verifier-" + n + "-" + strings.Repeat("x", 43)
}
