package streams

import (
	"context"
	"testing"

	"github.com/pecan-social/pecan/app/testenv"
)

// TestPagesCarryNoSecrets: the authors on a page of any stream come
// without their password hash and keys, however the stream reads them.
func TestPagesCarryNoSecrets(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := seedNetwork(t, b.DatabaseURL)
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, "UPDATE users SET password_hash = 'hash', public_key_pem = 'public', private_key_pem = 'private'"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "UPDATE posts SET in_global = ?", true); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO post_tags (post_id, tag) SELECT id, 'all' FROM posts"); err != nil {
			t.Fatal(err)
		}
		store := New(db)
		for _, f := range []Filter{
			{Kind: Global}, {Kind: Tag, Tag: "all"}, {Kind: Mentions, UserID: 1}, {Kind: Thread, ThreadID: 1},
			{Kind: UserPosts, UserID: 2}, {Kind: Personal, ViewerID: 1}, {Kind: Unified, ViewerID: 1},
		} {
			f.IncludeReplies = true
			res, err := store.Posts(ctx, f, Page{Count: 20})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Posts) == 0 {
				t.Fatalf("stream %d has no posts to check", f.Kind)
			}
			for _, p := range res.Posts {
				if u := p.User; u == nil || u.PasswordHash != "" || u.PublicKeyPEM != "" || u.PrivateKeyPEM != "" {
					t.Fatalf("stream %d: post %d's author is %+v, want them without secrets", f.Kind, p.ID, u)
				}
			}
		}
	})
}
