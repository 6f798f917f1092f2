package main

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// TestPostCommand round-trips `pecan post` through a real server: the
// printed URL opens the new post's page, stdin works with -, and the exit
// codes say whose fault a failure was.
func TestPostCommand(t *testing.T) {
	for _, name := range testenv.Names() {
		t.Run(name, func(t *testing.T) {
			srv := apptest.Start(t, testenv.New(t, name), func(c *config.Config) {
				c.Scheme = "http"
				c.Delivery.AllowPrivateAddresses = true
			})
			bot := srv.CreateUser(t, "newsbot", models.UserBot)
			token := srv.Token(t, bot, models.ScopeWritePost)

			code, out, errOut := pecan(t, "", "post", "--url", srv.URL, "--token", token, "Hello from the command line #cli")
			if code != exitOK || !strings.HasPrefix(out, srv.URL+"/@newsbot/") || strings.Count(out, "\n") != 1 {
				t.Fatalf("post: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			page := srv.Do(t, apptest.Request{Method: "GET", Path: strings.TrimPrefix(strings.TrimSpace(out), srv.URL)}).Expect(t, http.StatusOK)
			if !strings.Contains(string(page.Body), "Hello from the command line") {
				t.Fatalf("the printed URL shows %s", page.Body)
			}

			t.Setenv("PECAN_URL", srv.URL)
			t.Setenv("PECAN_TOKEN", token)
			code, out, errOut = pecan(t, "From standard input\nwith two lines\n", "post", "--nsfw", "-")
			if code != exitOK {
				t.Fatalf("post -: exit %d, stderr %q", code, errOut)
			}
			id := out[strings.LastIndex(strings.TrimSpace(out), "/")+1:]
			var got struct {
				IsNSFW  bool `json:"is_nsfw"`
				Content struct {
					Text string `json:"text"`
				} `json:"content"`
			}
			srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/posts/" + strings.TrimSpace(id)}).Expect(t, 200).Decode(t, &got)
			if got.Content.Text != "From standard input\nwith two lines" || !got.IsNSFW {
				t.Fatalf("posted %+v", got)
			}

			// Refusals and unreachable servers: 1, with the reason.
			code, _, errOut = pecan(t, "", "post", strings.Repeat("x", 300))
			if code != exitError || !strings.Contains(errOut, "text_too_long") {
				t.Fatalf("too long: exit %d, stderr %q", code, errOut)
			}
			code, _, errOut = pecan(t, "", "post", "--token", "pcn_wrong", "hi")
			if code != exitError || !strings.Contains(errOut, "401") {
				t.Fatalf("bad token: exit %d, stderr %q", code, errOut)
			}
			code, _, errOut = pecan(t, "", "post", "--url", "http://"+closedPort(t), "hi")
			if code != exitError || errOut == "" {
				t.Fatalf("no server: exit %d, stderr %q", code, errOut)
			}
		})
	}
}

func TestPostCommandUsage(t *testing.T) {
	t.Setenv("PECAN_URL", "")
	t.Setenv("PECAN_TOKEN", "")
	cases := []struct {
		name  string
		stdin string
		args  []string
		says  string
	}{
		{"no text", "", []string{"post"}, "exactly one argument"},
		{"two texts", "", []string{"post", "a", "b"}, "exactly one argument"},
		{"empty stdin", "\n", []string{"post", "--url", "http://x.example", "--token", "t", "-"}, "empty"},
		{"no server", "", []string{"post", "--token", "t", "hi"}, "PECAN_URL"},
		{"no token", "", []string{"post", "--url", "http://x.example", "hi"}, "PECAN_TOKEN"},
		{"bad URL", "", []string{"post", "--url", "x.example", "--token", "t", "hi"}, "not an http(s) URL"},
		{"unknown flag", "", []string{"post", "--loud", "hi"}, "unknown flag"},
	}
	for _, tc := range cases {
		code, _, errOut := pecan(t, tc.stdin, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.says) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tc.name, code, errOut, exitUsage, tc.says)
		}
	}
}

// closedPort is an address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
