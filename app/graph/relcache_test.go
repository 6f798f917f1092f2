package graph

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/database"
)

// standingWith is what the database would say: the viewer follows and is
// followed by every one of follows.
func standingWith(follows ...int64) database.Standing {
	s := database.Standing{YouFollow: map[int64]bool{}, FollowsYou: map[int64]bool{}}
	for _, id := range follows {
		s.YouFollow[id], s.FollowsYou[id] = true, true
	}
	return s
}

func newRelations() Relations {
	return Relations{YouFollow: map[int64]bool{}, FollowsYou: map[int64]bool{}, YouMuted: map[int64]bool{}, YouBlocked: map[int64]bool{}}
}

func TestRelationCacheForgetsWhatWasReadBeforeAForget(t *testing.T) {
	c := newRelationCache(time.Minute)
	now := time.Now()

	generation := c.begin() // a page starts reading viewer 1's relations
	c.forget("1 2")         // 1 follows 2 meanwhile
	c.put(1, []int64{2, 3}, standingWith(3), now, generation)
	if missing := c.known(1, []int64{2, 3}, now, newRelations()); len(missing) != 2 {
		t.Fatalf("relations read before a forget were cached after it: missing %v", missing)
	}

	c.put(1, []int64{2, 3}, standingWith(2), now, c.begin())
	r := newRelations()
	if missing := c.known(1, []int64{2, 3, 4}, now, r); len(missing) != 1 || missing[0] != 4 {
		t.Fatalf("missing %v, want only 4, which was never read", missing)
	}
	if !r.YouFollow[2] || !r.FollowsYou[2] || r.YouFollow[3] || r.YouMuted[2] {
		t.Fatalf("cached relations %+v, want 2 followed both ways and 3 not at all", r)
	}
	if missing := c.known(1, []int64{2}, now.Add(time.Minute), newRelations()); len(missing) != 1 {
		t.Fatal("an entry outlived its ttl")
	}

	generation = c.begin() // viewer 5's page starts
	c.forget("6 7")        // 6 follows 7 meanwhile: nothing to do with 5
	c.put(5, []int64{6}, standingWith(6), now, generation)
	if missing := c.known(5, []int64{6}, now, newRelations()); len(missing) != 0 {
		t.Fatal("a change between two others kept a viewer's read from being cached")
	}
}

// TestRelationCacheKeepsNoReadOlderThanTheLastChange: pages read while the
// relation changes, from many goroutines at once, as requests do. Each
// change is made, then forgotten; from then on the cache may only know
// what was read after it.
func TestRelationCacheKeepsNoReadOlderThanTheLastChange(t *testing.T) {
	c := newRelationCache(time.Minute)
	now := time.Now()
	var follows atomic.Bool // the database
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 8 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				generation := c.begin()
				read := standingWith()
				if follows.Load() {
					read = standingWith(2)
				}
				runtime.Gosched() // the page's other work
				c.put(1, []int64{2}, read, now, generation)
			}
		})
	}
	defer func() { close(stop); readers.Wait() }()
	for i := range 5000 {
		follows.Store(i%2 == 0)
		c.forget("1 2")
		runtime.Gosched()
		r := newRelations()
		if missing := c.known(1, []int64{2}, now, r); len(missing) == 0 && r.YouFollow[2] != follows.Load() {
			t.Fatalf("change %d: the cache says follows %v, the database %v", i, r.YouFollow[2], follows.Load())
		}
	}
}

func TestRelationCacheForgetsOnlyTheViewersNamed(t *testing.T) {
	c := newRelationCache(time.Minute)
	now := time.Now()
	for viewer := int64(1); viewer <= 3; viewer++ {
		c.put(viewer, []int64{10}, standingWith(10), now, c.begin())
	}
	c.forget("1 3")
	for viewer, kept := range map[int64]bool{1: false, 2: true, 3: false} {
		if missing := c.known(viewer, []int64{10}, now, newRelations()); (len(missing) == 0) != kept {
			t.Errorf("viewer %d: kept %v, want %v", viewer, len(missing) == 0, kept)
		}
	}
	c.forget("")
	if missing := c.known(2, []int64{10}, now, newRelations()); len(missing) != 1 {
		t.Fatal("forgetting everything kept viewer 2's entry")
	}
	c.put(2, []int64{10}, standingWith(10), now, c.begin())
	c.forget("2 not-a-number")
	if missing := c.known(2, []int64{10}, now, newRelations()); len(missing) != 1 {
		t.Fatal("a notice it could not read left an entry in place")
	}
}

func TestRelationCacheStaysBounded(t *testing.T) {
	c := newRelationCache(time.Minute)
	now := time.Now()
	for user := range int64(maxCachedPerViewer + 10) {
		c.put(1, []int64{user}, standingWith(), now, c.begin())
	}
	if n := len(c.viewers[1].with); n > maxCachedPerViewer {
		t.Fatalf("%d users cached for one viewer, bound %d", n, maxCachedPerViewer)
	}
	page := make([]int64, 100)
	for viewer := range int64(2 * maxCachedPairs / len(page)) {
		for i := range page {
			page[i] = viewer*10 + int64(i)
		}
		c.put(viewer, page, standingWith(), now, c.begin())
		if viewer%7 == 0 {
			c.put(viewer, page, standingWith(), now, c.begin()) // the same users again: no more pairs
		}
		if viewer%11 == 0 {
			c.forget(fmt.Sprint(viewer - 1))
		}
	}
	pairs := 0
	for _, e := range c.viewers {
		pairs += len(e.with)
	}
	if pairs != c.pairs || pairs > maxCachedPairs {
		t.Fatalf("%d pairs cached, counted %d, bound %d", pairs, c.pairs, maxCachedPairs)
	}
}

func TestNilRelationCacheRemembersNothing(t *testing.T) {
	var c *relationCache
	c.put(1, []int64{2}, standingWith(2), time.Now(), c.begin())
	c.forget("1")
	if missing := c.known(1, []int64{2}, time.Now(), newRelations()); len(missing) != 1 {
		t.Fatal("a nil cache knew a relation")
	}
}
