package tokens

import (
	"testing"
	"time"

	"github.com/pecan-social/pecan/models"
)

func TestCacheForgetsWhatWasReadBeforeAForget(t *testing.T) {
	c := newCache(time.Minute)
	now := time.Now()
	tok := &models.Token{ID: 1, User: &models.User{ID: 7}}

	generation := c.begin() // a lookup starts
	c.forget()              // the token is revoked meanwhile
	c.put("h", tok, now, generation)
	if _, ok := c.get("h", now); ok {
		t.Fatal("a token read before a forget was cached after it")
	}

	c.put("h", tok, now, c.begin())
	if _, ok := c.get("h", now); !ok {
		t.Fatal("a token read after the forget was not cached")
	}
	if _, ok := c.get("h", now.Add(time.Minute)); ok {
		t.Fatal("an entry outlived its ttl")
	}
}

func TestCacheHandsOutCopies(t *testing.T) {
	c := newCache(time.Minute)
	now := time.Now()
	c.put("h", &models.Token{ID: 1, User: &models.User{ID: 7, Name: "Alice"}}, now, c.begin())
	got, _ := c.get("h", now)
	got.User.Name = "changed by a request"
	again, _ := c.get("h", now)
	if again.User.Name != "Alice" {
		t.Fatalf("one request's change reached the cache: %q", again.User.Name)
	}
}

func TestCacheStaysBounded(t *testing.T) {
	c := newCache(time.Minute)
	now := time.Now()
	for i := range maxCached + 10 {
		c.put(string(rune(i)), &models.Token{ID: int64(i)}, now, c.begin())
	}
	if n := len(c.entries); n > maxCached {
		t.Fatalf("%d entries, bound %d", n, maxCached)
	}
}

func TestNilCacheRemembersNothing(t *testing.T) {
	var c *cache
	c.put("h", &models.Token{ID: 1}, time.Now(), c.begin())
	c.forget()
	if _, ok := c.get("h", time.Now()); ok {
		t.Fatal("a nil cache returned a token")
	}
}
