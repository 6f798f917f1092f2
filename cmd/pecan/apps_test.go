package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/testenv"
)

// TestAppCommands is an operator registering a first-party app and trusting
// it, then the app signing a user in with the password grant.
func TestAppCommands(t *testing.T) {
	for _, name := range testenv.Names() {
		t.Run(name, func(t *testing.T) {
			b := testenv.New(t, name)
			t.Setenv("PECAN_DATABASE_URL", b.DatabaseURL)
			t.Chdir(t.TempDir())

			if code, _, errOut := pecan(t, "a fine password\n", "user", "create", "--username", "alice", "--password-stdin"); code != exitOK {
				t.Fatalf("user create: %d %q", code, errOut)
			}
			code, out, errOut := pecan(t, "", "app", "create", "--name", "Pecan Mobile", "--owner", "alice",
				"--redirect-uri", "https://mobile.example/cb", "--redirect-uri", "urn:ietf:wg:oauth:2.0:oob", "--scopes", "basic,stream")
			if code != exitOK {
				t.Fatalf("app create: %d %q", code, errOut)
			}
			clientID, secret := field(out, "client_id"), field(out, "client_secret")
			if clientID == "" || !strings.HasPrefix(secret, "pcs_") {
				t.Fatalf("app create printed %q", out)
			}
			code, out, errOut = pecan(t, "", "app", "trust", clientID)
			grantSecret := field(out, "password_grant_secret")
			if code != exitOK || !strings.HasPrefix(grantSecret, "pcg_") {
				t.Fatalf("app trust: %d %q %q", code, out, errOut)
			}

			srv := apptest.Start(t, b)
			form := url.Values{"grant_type": {"password"}, "client_id": {clientID}, "password_grant_secret": {grantSecret},
				"username": {"alice"}, "password": {"a fine password"}, "scope": {"basic,stream"}}.Encode()
			passwordGrant := func() (int, map[string]any) {
				resp := srv.Do(t, apptest.Request{Method: "POST", Path: "/v1/oauth/access_token", Body: form, ContentType: "application/x-www-form-urlencoded"})
				var body map[string]any
				_ = json.Unmarshal(resp.Body, &body)
				return resp.Status, body
			}
			if status, body := passwordGrant(); status != 200 || body["username"] != "alice" {
				t.Fatalf("password grant with the printed secret: %d %v", status, body)
			}

			if code, _, errOut := pecan(t, "", "app", "trust", "--revoke", clientID); code != exitOK {
				t.Fatalf("app trust --revoke: %d %q", code, errOut)
			}
			if status, body := passwordGrant(); status != 400 || body["error"] != "unauthorized_client" {
				t.Fatalf("password grant after --revoke: %d %v", status, body)
			}

			for _, tc := range []struct {
				args []string
				code int
				says string
			}{
				{[]string{"app", "create"}, exitUsage, "--name is required"},
				{[]string{"app", "create", "--name", "x", "--redirect-uri", "http://example.com/cb"}, exitError, "loopback"},
				{[]string{"app", "create", "--name", "x", "--scopes", "root"}, exitUsage, "unknown scope"},
				{[]string{"app", "trust", "nope"}, exitError, "no app"},
			} {
				if code, _, errOut := pecan(t, "", tc.args...); code != tc.code || !strings.Contains(errOut, tc.says) {
					t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.says)
				}
			}
		})
	}
}

// field reads "name: value" from a command's output.
func field(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+": "); ok {
			return v
		}
	}
	return ""
}
