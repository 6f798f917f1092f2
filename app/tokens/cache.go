package tokens

import (
	"sync"
	"time"

	"github.com/pecan-social/pecan/models"
)

// maxCached bounds the tokens remembered at once. Past it the cache starts
// over: the bound matters against a flood of distinct tokens, and an
// emptied cache costs one lookup per token.
const maxCached = 4096

// cache remembers tokens that authenticated, with their user and app, for
// a short while, so a signed-in request does not cost a database round
// trip. A nil cache remembers nothing. Whatever this process revokes or changes about a token's owner
// empties it at once; another replica, or the command line, is seen when
// an entry runs out.
type cache struct {
	ttl time.Duration

	mu         sync.RWMutex
	entries    map[string]cacheEntry
	generation uint64 // moves on every forget
}

type cacheEntry struct {
	tok   *models.Token
	until time.Time
}

func newCache(ttl time.Duration) *cache {
	return &cache{ttl: ttl, entries: map[string]cacheEntry{}}
}

// get returns a copy of the token cached under hash, so a request may
// change what it is handed without changing it for the others.
func (c *cache) get(hash string, now time.Time) (*models.Token, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[hash]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return copyToken(e.tok), true
}

// begin is called before a token is read from the database; put with its
// result only caches the token if nothing was forgotten meanwhile, so a
// token read just before its revocation is not remembered after it.
func (c *cache) begin() uint64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.generation
}

func (c *cache) put(hash string, t *models.Token, now time.Time, generation uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if generation != c.generation {
		return
	}
	if len(c.entries) >= maxCached {
		c.entries = make(map[string]cacheEntry, maxCached)
	}
	c.entries[hash] = cacheEntry{tok: copyToken(t), until: now.Add(c.ttl)}
}

// forget empties the cache. Revocations and profile changes are rare, so
// emptying all of it is simpler than knowing which entries they touch.
func (c *cache) forget() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	clear(c.entries)
}

func copyToken(t *models.Token) *models.Token {
	out := *t
	if t.User != nil {
		u := *t.User
		out.User = &u
	}
	if t.App != nil {
		a := *t.App
		out.App = &a
	}
	return &out
}
