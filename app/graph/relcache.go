package graph

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pecan-social/pecan/app/database"
)

// relation is how a viewer stands with one user, a bit per relation.
type relation uint8

const (
	youFollow relation = 1 << iota
	followsYou
	youMuted
	youBlocked
)

// The cache's bounds, about 10 MB at most. Past them it starts over, for
// all viewers or for one: a viewer then costs the query they would have
// cost without a cache.
const (
	maxCachedPairs     = 250_000
	maxCachedPerViewer = 2048
)

// relationCache remembers, per viewer, how they stand with the users they
// were recently shown, so a page of posts by the same few authors does not
// ask the database again each time. A nil cache remembers nothing. Every
// change to a follow, mute or block forgets both users' entries (see
// Processor.changed); the ttl bounds what a lost notice leaves stale.
type relationCache struct {
	ttl time.Duration

	mu      sync.RWMutex
	viewers map[int64]*viewerRelations
	pairs   int // entries of all viewers together
	// generation moves on every forget; forgotten is the generation at
	// which each viewer was last forgotten, and forgotAll the last time
	// everyone was. A read begun before them may not be put.
	generation uint64
	forgotten  map[int64]uint64
	forgotAll  uint64
}

type viewerRelations struct {
	until time.Time
	with  map[int64]relation
}

func newRelationCache(ttl time.Duration) *relationCache {
	return &relationCache{ttl: ttl, viewers: map[int64]*viewerRelations{}, forgotten: map[int64]uint64{}}
}

// maxForgotten bounds the viewers whose last forget is remembered. It only
// matters to reads in flight, so past it they are all refused instead.
const maxForgotten = 4096

// known adds to r what is cached of viewer's relations with ids, and
// returns the ids it knows nothing of.
func (c *relationCache) known(viewer int64, ids []int64, now time.Time, r Relations) []int64 {
	if c == nil {
		return ids
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.viewers[viewer]
	if e == nil || !now.Before(e.until) {
		return ids
	}
	var missing []int64
	for _, id := range ids {
		bits, ok := e.with[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		r.add(id, bits)
	}
	return missing
}

// begin is called before relations are read from the database; put with
// what was read only caches it if nothing was forgotten meanwhile, so
// what was read just before a follow is not remembered after it.
func (c *relationCache) begin() uint64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.generation
}

// put remembers viewer's relations with ids, as read into s, unless the
// viewer was forgotten since the read began (at generation): a change
// to someone else's relations does not stop it.
func (c *relationCache) put(viewer int64, ids []int64, s database.Standing, now time.Time, generation uint64) {
	if c == nil || len(ids) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.forgotAll > generation || c.forgotten[viewer] > generation {
		return
	}
	if c.pairs+len(ids) > maxCachedPairs {
		c.dropExpired(now)
	}
	e := c.viewers[viewer]
	if e == nil || !now.Before(e.until) || len(e.with)+len(ids) > maxCachedPerViewer {
		if e != nil {
			c.pairs -= len(e.with)
		}
		e = &viewerRelations{until: now.Add(c.ttl), with: make(map[int64]relation, len(ids))}
		c.viewers[viewer] = e
	}
	for _, id := range ids {
		if _, known := e.with[id]; !known {
			c.pairs++
		}
		e.with[id] = relationIn(s, id)
	}
}

// dropExpired makes room: it drops the entries past their time, or all
// of them if that is not enough.
func (c *relationCache) dropExpired(now time.Time) {
	for id, e := range c.viewers {
		if !now.Before(e.until) {
			c.pairs -= len(e.with)
			delete(c.viewers, id)
		}
	}
	if c.pairs > maxCachedPairs*3/4 {
		clear(c.viewers)
		c.pairs = 0
	}
}

// forget drops the entries of the viewers listed in about (user ids
// separated by spaces), or every entry when about is "".
func (c *relationCache) forget(about string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	if about == "" {
		c.forgetAll()
		return
	}
	for _, field := range strings.Fields(about) {
		id, err := strconv.ParseInt(field, 10, 64)
		if err != nil { // not a notice this version sends: be safe
			c.forgetAll()
			return
		}
		if e := c.viewers[id]; e != nil {
			c.pairs -= len(e.with)
			delete(c.viewers, id)
		}
		if len(c.forgotten) >= maxForgotten {
			clear(c.forgotten)
			c.forgotAll = c.generation
		}
		c.forgotten[id] = c.generation
	}
}

func (c *relationCache) forgetAll() {
	clear(c.viewers)
	clear(c.forgotten)
	c.pairs, c.forgotAll = 0, c.generation
}

func relationIn(s database.Standing, id int64) relation {
	var bits relation
	if s.YouFollow[id] {
		bits |= youFollow
	}
	if s.FollowsYou[id] {
		bits |= followsYou
	}
	if s.YouMuted[id] {
		bits |= youMuted
	}
	if s.YouBlocked[id] {
		bits |= youBlocked
	}
	return bits
}

// add records bits, the viewer's relations with user id, in r.
func (r Relations) add(id int64, bits relation) {
	if bits&youFollow != 0 {
		r.YouFollow[id] = true
	}
	if bits&followsYou != 0 {
		r.FollowsYou[id] = true
	}
	if bits&youMuted != 0 {
		r.YouMuted[id] = true
	}
	if bits&youBlocked != 0 {
		r.YouBlocked[id] = true
	}
}

// aboutUsers is a notice's about for the entries of these viewers.
func aboutUsers(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}
