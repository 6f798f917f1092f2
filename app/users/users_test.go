package users_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/app/users"
	"github.com/pecan-social/pecan/models"
)

func newProcessor(t testing.TB, b testenv.Backend) *users.Processor {
	t.Helper()
	db, err := database.Open(b.DatabaseURL, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return users.New(db, time.Now, bcrypt.MinCost, func() (string, string, error) { return "test private key", "test public key", nil })
}

func errorCode(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Code
	}
	return ""
}

func TestUsernameRules(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		p := newProcessor(t, b)
		ctx := context.Background()
		cases := []struct {
			username string
			typ      models.UserType
			password string
			code     string
		}{
			{"alice", models.UserHuman, "", ""},
			{"a", models.UserHuman, "", ""},
			{"Bob_99", models.UserFeed, "", ""},
			{strings.Repeat("x", 20), models.UserBot, "", ""},
			{strings.Repeat("x", 21), models.UserHuman, "", "invalid_username"},
			{"", models.UserHuman, "", "invalid_username"},
			{"has space", models.UserHuman, "", "invalid_username"},
			{"dash-ed", models.UserHuman, "", "invalid_username"},
			{"émile", models.UserHuman, "", "invalid_username"},
			{"ALICE", models.UserHuman, "", "username_taken"},
			{"robot", "robot", "", "invalid_user_type"},
			{"shortpw", models.UserHuman, "1234567", "password_too_short"},
			{"longpw", models.UserHuman, strings.Repeat("p", 73), "password_too_long"},
		}
		for _, tc := range cases {
			_, err := p.Create(ctx, users.NewUser{Username: tc.username, Type: tc.typ, Password: tc.password})
			if got := errorCode(err); got != tc.code || (tc.code == "" && err != nil) {
				t.Errorf("create %q: error %v (code %q), want code %q", tc.username, err, got, tc.code)
			}
		}
	})
}

func TestUsernameUniqueUnderConcurrency(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		p := newProcessor(t, b)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created int
			taken   int
		)
		names := []string{"carol", "Carol", "CAROL", "cArOl"}
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := p.Create(context.Background(), users.NewUser{Username: names[i%len(names)], Type: models.UserHuman})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					created++
				case errorCode(err) == "username_taken":
					taken++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}()
		}
		wg.Wait()
		if created != 1 || taken != 19 {
			t.Fatalf("created %d, taken %d; want 1 and 19", created, taken)
		}
	})
}

func TestPasswordIsHashed(t *testing.T) {
	p := newProcessor(t, testenv.New(t, "sqlite"))
	u, err := p.Create(context.Background(), users.NewUser{Username: "dave", Type: models.UserHuman, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(u.PasswordHash, "correct horse") || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("correct horse battery")) != nil {
		t.Fatalf("password not stored as a bcrypt hash: %q", u.PasswordHash)
	}
}

func TestLookupRefs(t *testing.T) {
	p := newProcessor(t, testenv.New(t, "sqlite"))
	ctx := context.Background()
	erin, err := p.Create(ctx, users.NewUser{Username: "Erin", Type: models.UserHuman})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"1", "@erin", "@ERIN"} {
		if u, err := p.Lookup(ctx, ref, nil); err != nil || u.ID != erin.ID {
			t.Errorf("Lookup(%q) = %v, %v", ref, u, err)
		}
	}
	if u, err := p.Lookup(ctx, "me", erin); err != nil || u.ID != erin.ID {
		t.Errorf("Lookup(me) = %v, %v", u, err)
	}
	for ref, code := range map[string]string{"me": "token_missing", "0": "invalid_user_id", "-1": "invalid_user_id", "@no-pe": "invalid_user_id", "2": "user_not_found", "@frank": "user_not_found"} {
		if _, err := p.Lookup(ctx, ref, nil); errorCode(err) != code {
			t.Errorf("Lookup(%q) error %v, want %s", ref, err, code)
		}
	}
	if _, err := p.Lookup(ctx, "abc", nil); !errors.As(err, new(*errs.Error)) {
		t.Errorf("Lookup(abc) gave %v", err)
	}
}
