package users_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/app/users"
	"github.com/pecan-social/pecan/models"
)

// TestCheckPasswordSaysTheSameForEveryFailure: an unknown account, an
// account without a password and a wrong password are one error.
func TestCheckPasswordSaysTheSameForEveryFailure(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		p := newProcessor(t, b)
		ctx := context.Background()
		if _, err := p.Create(ctx, users.NewUser{Username: "Alice", Password: "a fine password", Type: models.UserHuman}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Create(ctx, users.NewUser{Username: "tokenbot", Type: models.UserBot}); err != nil {
			t.Fatal(err)
		}
		u, err := p.CheckPassword(ctx, "ALICE", "a fine password")
		if err != nil || u.Username != "Alice" {
			t.Fatalf("right password: %v %v", u, err)
		}
		for _, c := range [][2]string{
			{"alice", "a wrong password"}, {"nobody", "a fine password"}, {"tokenbot", ""},
			{"tokenbot", "anything at all"}, {"not a username!", "a fine password"}, {"", ""},
		} {
			if u, err := p.CheckPassword(ctx, c[0], c[1]); !errors.Is(err, users.ErrBadCredentials) || u != nil {
				t.Errorf("CheckPassword(%q, %q) = %v, %v; want ErrBadCredentials", c[0], c[1], u, err)
			}
		}
	})
}

// BenchmarkCheckPassword shows a sign-in costs the same whether or not the
// account exists, so timing does not reveal usernames: compare the ns/op of
// the three cases.
func BenchmarkCheckPassword(b *testing.B) {
	p := newProcessor(b, testenv.New(b, "sqlite"))
	ctx := context.Background()
	if _, err := p.Create(ctx, users.NewUser{Username: "alice", Password: "a fine password", Type: models.UserHuman}); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, username, password string }{
		{"right", "alice", "a fine password"}, {"wrong", "alice", "a wrong password"}, {"unknown", "nobody", "a fine password"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				_, _ = p.CheckPassword(ctx, c.username, c.password)
			}
		})
	}
}
