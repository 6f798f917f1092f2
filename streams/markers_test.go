package streams_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/streams"
)

// markerStore is a store under test and a way to open it again, as a
// restarted server would.
type markerStore struct {
	name   string
	open   func(t *testing.T) streams.MarkerStore
	userID int64
}

// forEachMarkerStore runs fn on the SQL store on every database and, with
// PECAN_TEST_REDIS_URL set, on the Redis store.
func forEachMarkerStore(t *testing.T, fn func(t *testing.T, s markerStore)) {
	for _, name := range testenv.Names() {
		t.Run("sql-"+name, func(t *testing.T) {
			t.Parallel()
			b := testenv.New(t, name)
			userID := seedUser(t, b.DatabaseURL)
			fn(t, markerStore{name: "sql-" + name, userID: userID, open: func(t *testing.T) streams.MarkerStore {
				db, err := database.Open(b.DatabaseURL, 8)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = db.Close() })
				return streams.NewSQLMarkers(db.Bun)
			}})
		})
	}
	url := os.Getenv(testenv.RedisURLEnv)
	if url == "" || os.Getenv(testenv.DatabaseURLEnv) == "" {
		return
	}
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		b := testenv.New(t, "postgres")
		fn(t, markerStore{name: "redis", userID: 1, open: func(t *testing.T) streams.MarkerStore {
			opts, _ := redis.ParseURL(url)
			client := redis.NewClient(opts)
			t.Cleanup(func() { _ = client.Close() })
			return streams.NewRedisMarkers(client, b.RedisPrefix)
		}})
	})
}

func seedUser(t *testing.T, url string) int64 {
	db, err := database.Open(url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	var id int64
	err = db.Bun.NewRaw("INSERT INTO users (username, username_key, type, created_at, updated_at) VALUES ('m', 'm', 'human', ?, ?) RETURNING id",
		time.Now(), time.Now()).Scan(ctx, &id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestMarkerUpdatesAreNotLost(t *testing.T) {
	forEachMarkerStore(t, func(t *testing.T, s markerStore) {
		store := s.open(t)
		ctx := context.Background()
		const writers = 50
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			max  int64
			sent = map[int64]bool{}
		)
		for range writers {
			id := rand.Int64N(1_000_000_000_000) + 1
			mu.Lock()
			sent[id], max = true, maxOf(max, id)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := store.Update(ctx, s.userID, streams.MarkerUpdate{Name: "personal", ID: id}, time.Now()); err != nil {
					t.Errorf("update: %v", err)
				}
			}()
		}
		wg.Wait()
		m, ok, err := store.Get(ctx, s.userID, "personal")
		if err != nil || !ok {
			t.Fatalf("get: %v %v", ok, err)
		}
		if m.LastReadID != max || m.Version != writers || !sent[m.ID] {
			t.Fatalf("marker %+v; want last_read_id %d and version %d", m, max, writers)
		}
	})
}

func TestMarkerVersionsSettleRaces(t *testing.T) {
	forEachMarkerStore(t, func(t *testing.T, s markerStore) {
		store := s.open(t)
		ctx := context.Background()
		for round := range 5 {
			current, _, _ := store.Get(ctx, s.userID, "global")
			expect := current.Version
			var wg sync.WaitGroup
			results := make([]error, 2)
			start := make(chan struct{}) // both writers leave together
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, results[i] = store.Update(ctx, s.userID, streams.MarkerUpdate{Name: "global", ID: int64(100*round + i + 1), ExpectVersion: &expect}, time.Now())
				}()
			}
			close(start)
			wg.Wait()
			won := 0
			for _, err := range results {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, streams.ErrMarkerConflict):
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d writers won, want exactly 1 (%v)", round, won, results)
			}
		}
	})
}

func TestMarkerRules(t *testing.T) {
	forEachMarkerStore(t, func(t *testing.T, s markerStore) {
		store := s.open(t)
		ctx := context.Background()
		up := func(u streams.MarkerUpdate) {
			t.Helper()
			if _, err := store.Update(ctx, s.userID, u, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok, _ := store.Get(ctx, s.userID, "mentions"); ok {
			t.Fatalf("a marker that was never set exists")
		}
		zero := int64(0)
		if _, err := store.Update(ctx, s.userID, streams.MarkerUpdate{Name: "mentions", ID: 5, ExpectVersion: &zero}, time.Now()); err != nil {
			t.Fatalf("first update at version 0: %v", err)
		}
		stale := int64(0)
		if _, err := store.Update(ctx, s.userID, streams.MarkerUpdate{Name: "mentions", ID: 6, ExpectVersion: &stale}, time.Now()); !errors.Is(err, streams.ErrMarkerConflict) {
			t.Fatalf("stale version: %v", err)
		}
		up(streams.MarkerUpdate{Name: "mentions", ID: 50, Percentage: 30})
		up(streams.MarkerUpdate{Name: "mentions", ID: 20})
		m, _, _ := store.Get(ctx, s.userID, "mentions")
		if m.ID != 20 || m.LastReadID != 50 || m.Version != 3 || m.Percentage != 0 {
			t.Fatalf("after moving back %+v", m)
		}
		up(streams.MarkerUpdate{Name: "mentions", ID: 10, ResetReadID: true})
		m, _, _ = store.Get(ctx, s.userID, "mentions")
		if m.LastReadID != 10 || m.Version != 4 {
			t.Fatalf("after reset %+v", m)
		}
		up(streams.MarkerUpdate{Name: "channel:7", ID: 3})
		// A fresh connection (a restarted server) sees the same markers.
		all, err := s.open(t).All(ctx, s.userID)
		if err != nil || len(all) != 2 || all[0].Name != "channel:7" || all[1].Name != "mentions" || all[1].LastReadID != 10 {
			t.Fatalf("after reopening: %+v %v", all, err)
		}
	})
}

func maxOf(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
