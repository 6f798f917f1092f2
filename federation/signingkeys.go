package federation

import (
	"crypto/rsa"
	"sync"
)

// maxSigningKeys bounds the parsed private keys kept; past it the cache
// starts over.
const maxSigningKeys = 1024

// signingKeys keeps local users' parsed private keys. A fanout signs one
// request per follower inbox, and reading and parsing the author's key for
// each was a tenth of its CPU. A local user's key pair never changes once
// stored (SetUserKeys only fills empty keys), so an entry never goes stale.
type signingKeys struct {
	mu   sync.RWMutex
	keys map[int64]signingKey
}

type signingKey struct {
	key   *rsa.PrivateKey
	keyID string
}

func (c *signingKeys) get(userID int64) (signingKey, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	k, ok := c.keys[userID]
	return k, ok
}

func (c *signingKeys) put(userID int64, k signingKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil || len(c.keys) >= maxSigningKeys {
		c.keys = make(map[int64]signingKey)
	}
	c.keys[userID] = k
}
