package crosspost

import (
	"context"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/app/text"
	"github.com/pecan-social/pecan/models"
)

// TestStatusText: what Mastodon users read of a post. Markdown links come
// back as their URLs, links Mastodon would not see get their scheme, and
// mentions of users here become full handles; everything else, counted in
// code points, stays where it was.
func TestStatusText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain words", "plain words"},
		{"Read [the docs](https://pnut.io/docs) now", "Read the docs (https://pnut.io/docs) now"},
		{"[pnut.io](https://pnut.io/docs) first", "https://pnut.io/docs first"},
		{"[https://pnut.io/](https://pnut.io/) as is", "https://pnut.io/ as is"},
		{"see https://example.com/a?b=c", "see https://example.com/a?b=c"},
		{"visit pnut.io, HTTPS://Pnut.io/A too", "visit http://pnut.io, HTTPS://Pnut.io/A too"},
		{"👩‍👩‍👧 [a](https://a.example/x) [b](https://b.example/y) 🥜", "👩‍👩‍👧 a (https://a.example/x) b (https://b.example/y) 🥜"},
		{"hi @bob and @carol@social.example", "hi @bob@pecan.example and @carol@social.example"},
	}
	for _, c := range cases {
		stored, e := text.Parse(c.in, text.Options{ParseLinks: true, ParseMarkdownLinks: true})
		for i := range e.Mentions {
			e.Mentions[i].ID = "1" // resolved
		}
		if got := StatusText(&models.Post{Text: stored, Entities: e}, "pecan.example"); got != c.want {
			t.Errorf("%q (stored %q): got %q, want %q", c.in, stored, got, c.want)
		}
	}
}

// TestSealer: a sealed token opens only for the target it was sealed for
// and only unaltered; tokens sealed with the key Pecan made for itself
// still open after the operator configures a key, which then seals what
// is new; without the key that sealed it, a token does not open.
func TestSealer(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db, err := database.Open(b.DatabaseURL, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if _, err := db.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		own := newSealer(db, nil, time.Now)
		sealed, err := own.seal(ctx, "token-1", "alice|https://m.example")
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := own.seal(ctx, "token-1", "alice|https://m.example"); again == sealed {
			t.Fatal("two seals of one token are equal: the nonce is not fresh")
		}
		if got, err := own.open(ctx, sealed, "alice|https://m.example"); err != nil || got != "token-1" {
			t.Fatalf("open: %q, %v", got, err)
		}
		if _, err := own.open(ctx, sealed, "bob|https://m.example"); err != errUnsealable {
			t.Fatalf("opened for another target: %v", err)
		}
		tampered := []byte(sealed)
		tampered[len(tampered)-2] ^= 1
		if _, err := own.open(ctx, string(tampered), "alice|https://m.example"); err != errUnsealable {
			t.Fatalf("opened altered: %v", err)
		}

		configured := make([]byte, 32)
		configured[0] = 7
		withKey := newSealer(db, configured, time.Now)
		if got, err := withKey.open(ctx, sealed, "alice|https://m.example"); err != nil || got != "token-1" {
			t.Fatalf("a token sealed before the key was configured: %q, %v", got, err)
		}
		fresh, err := withKey.seal(ctx, "token-2", "alice|https://m.example")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := own.open(ctx, fresh, "alice|https://m.example"); err != errUnsealable {
			t.Fatalf("sealed with the configured key, opened without it: %v", err)
		}
	})
}
