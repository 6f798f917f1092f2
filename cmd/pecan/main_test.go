package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/testenv"
)

// pecan runs the command line in-process with the given environment.
func pecan(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestUserAndTokenCommands is the path an operator takes: create a user,
// create a token, call the API with it.
func TestUserAndTokenCommands(t *testing.T) {
	for _, name := range testenv.Names() {
		t.Run(name, func(t *testing.T) {
			b := testenv.New(t, name)
			t.Setenv("PECAN_DATABASE_URL", b.DatabaseURL)
			t.Chdir(t.TempDir())

			code, out, errOut := pecan(t, "a fine password\n", "user", "create", "--username", "alice", "--password-stdin")
			if code != exitOK || !strings.Contains(out, "@alice") {
				t.Fatalf("user create: %d %q %q", code, out, errOut)
			}
			code, out, errOut = pecan(t, "", "token", "create", "--username", "ALICE", "--scopes", "basic,stream", "--expires", "720h")
			if code != exitOK {
				t.Fatalf("token create: %d %q", code, errOut)
			}
			token := strings.TrimSuffix(out, "\n")
			if !strings.HasPrefix(token, "pcn_") || strings.ContainsAny(token, " \n") {
				t.Fatalf("token create printed %q, want the token alone", out)
			}

			srv := apptest.Start(t, b)
			var info tokenInfoView
			srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/token", Token: token}).Expect(t, 200).Decode(t, &info)
			if info.User.Username != "alice" || strings.Join(info.Scopes, ",") != "basic,stream" || info.Token.ExpiresAt == "" {
				t.Fatalf("token info %+v", info)
			}
		})
	}
}

type tokenInfoView struct {
	Scopes []string `json:"scopes"`
	User   struct {
		Username string `json:"username"`
	} `json:"user"`
	Token struct {
		ExpiresAt string `json:"expires_at"`
	} `json:"token"`
}

func TestCommandErrorsAndExitCodes(t *testing.T) {
	b := testenv.New(t, "sqlite")
	t.Setenv("PECAN_DATABASE_URL", b.DatabaseURL)
	t.Chdir(t.TempDir())
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		says  string
	}{
		{"unknown flag", "", []string{"user", "create", "--nope"}, exitUsage, "unknown flag"},
		{"missing username", "", []string{"user", "create"}, exitUsage, "--username is required"},
		{"empty password", "\n", []string{"user", "create", "--username", "bob", "--password-stdin"}, exitUsage, "no password"},
		{"bad username", "", []string{"user", "create", "--username", "no spaces"}, exitError, "username"},
		{"bad type", "", []string{"user", "create", "--username", "bob", "--type", "robot"}, exitError, "type"},
		{"unknown scope", "", []string{"token", "create", "--username", "bob", "--scopes", "basic,root"}, exitUsage, "unknown scope"},
		{"unknown user", "", []string{"token", "create", "--username", "nobody"}, exitError, "not found"},
		{"missing config file", "", []string{"--config", "missing.yaml", "user", "create", "--username", "bob"}, exitError, "missing.yaml"},
	}
	for _, tc := range cases {
		code, _, errOut := pecan(t, tc.stdin, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.says) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tc.name, code, errOut, tc.code, tc.says)
		}
	}
	t.Setenv("PECAN_LOG_LEVEL", "loud")
	if code, _, errOut := pecan(t, "", "user", "create", "--username", "bob"); code != exitError || !strings.Contains(errOut, "log.level") {
		t.Errorf("bad config: exit %d, stderr %q", code, errOut)
	}
}

func TestMigrateCommands(t *testing.T) {
	b := testenv.New(t, "sqlite")
	t.Setenv("PECAN_DATABASE_URL", b.DatabaseURL)
	t.Chdir(t.TempDir())
	steps := []struct {
		args []string
		says string
	}{
		{[]string{"migrate", "status"}, "pending"},
		{[]string{"migrate", "up"}, "applied 20261124000001_users_and_tokens"},
		{[]string{"migrate", "status"}, "applied 2"},
		{[]string{"migrate", "up"}, "nothing applied"},
		{[]string{"migrate", "down"}, "rolled back 20261124000001_users_and_tokens"},
		{[]string{"migrate", "status"}, "pending"},
	}
	for _, s := range steps {
		code, out, errOut := pecan(t, "", s.args...)
		if code != exitOK || !strings.Contains(out, s.says) {
			t.Fatalf("%v: exit %d, out %q, err %q; want %q", s.args, code, out, errOut, s.says)
		}
	}
}
