package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/testenv"
)

// TestOAuthCodeFlowInChromium signs in through the consent page in a real
// headless Chromium: the page loads, the form is filled and submitted, the
// cookies and the redirect work, and the app's callback receives a code
// that exchanges for a working token.
func TestOAuthCodeFlowInChromium(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		browser := apptest.StartBrowser(t)
		callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<!DOCTYPE html><title>Nutshell</title><p>Signed in.</p>"))
		}))
		defer callback.Close()
		redirect := callback.URL + "/callback"

		w := newOAuthWorld(t, b)
		w.app = w.registerApp(t, map[string]any{"name": "Nutshell Desktop", "redirect_uris": []string{redirect}, "scopes": "basic,stream"})
		q := w.authQuery("basic,stream", "from-chromium", verifier("browser"))
		q.Set("redirect_uri", redirect)

		browser.Open(w.srv.URL + "/oauth/authorize?" + q.Encode())
		if title := browser.Text("h1"); title != "Authorize Nutshell Desktop" {
			t.Fatalf("consent page heading %q", title)
		}
		shot := filepath.Join(t.TempDir(), "consent.png")
		browser.Screenshot(shot)
		if png, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Fatalf("screenshot: %v", err)
		}
		browser.Fill("#username", "alice")
		browser.Fill("#password", alicePassword)
		browser.Click(`button[value="approve"]`)

		landed, err := url.Parse(browser.WaitURL(redirect + "?"))
		if err != nil {
			t.Fatal(err)
		}
		code := landed.Query().Get("code")
		if landed.Query().Get("state") != "from-chromium" || code == "" {
			t.Fatalf("callback reached at %s", landed)
		}
		form := w.exchangeForm(code, verifier("browser"))
		form.Set("redirect_uri", redirect)
		status, body := w.tokenCall(t, form)
		token, _ := body["access_token"].(string)
		if status != 200 || token == "" {
			t.Fatalf("exchange: %d %v", status, body)
		}
		w.srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/streams/me", Token: token}).Expect(t, 200)
	})
}
