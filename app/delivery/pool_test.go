package delivery_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/delivery"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

func openDB(t testing.TB, b testenv.Backend) *database.DB {
	t.Helper()
	db, err := database.Open(b.DatabaseURL, 16)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func newClock() *apptest.Clock {
	return apptest.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
}

// noSigner leaves requests unsigned: these tests are about the queue.
type noSigner struct{}

func (noSigner) Sign(context.Context, *http.Request, *models.Delivery) error { return nil }

var testBackoff = delivery.Backoff{Base: 10 * time.Second, Max: time.Hour}

func newPool(db *database.DB, c *apptest.Clock, s delivery.Settings) *delivery.Pool {
	return newPoolAs(db, c, s, "test")
}

// newPoolAs is newPool sending as userAgent, so a receiver can tell two
// pools apart.
func newPoolAs(db *database.DB, c *apptest.Clock, s delivery.Settings, userAgent string) *delivery.Pool {
	if s.Workers == 0 {
		s.Workers = 4
	}
	if s.PerHost == 0 {
		s.PerHost = 4
	}
	if s.PollInterval == 0 {
		s.PollInterval = 10 * time.Millisecond
	}
	if s.Backoff == (delivery.Backoff{}) {
		s.Backoff = testBackoff
	}
	s.Retention = 24 * time.Hour
	client := delivery.NewClient(delivery.ClientOptions{Policy: delivery.AddressPolicy{AllowPrivate: true}, UserAgent: userAgent})
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	return delivery.NewPool(db, client, map[string]delivery.Signer{"none": noSigner{}}, s, c.Now, logger, nil)
}

func job(url string, maxAttempts int) delivery.Job {
	return delivery.Job{
		Kind: models.DeliveryWebhook, Event: "test.event", URL: url, Body: []byte(`{"hello":"world"}`),
		Signer: "none", MaxAttempts: maxAttempts, Timeout: 5 * time.Second,
	}
}

func enqueue(t testing.TB, db *database.DB, now time.Time, jobs ...delivery.Job) []*models.Delivery {
	t.Helper()
	rows, err := delivery.Enqueue(context.Background(), db.Queries, now, jobs...)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func load(t testing.TB, db *database.DB, id int64) *models.Delivery {
	t.Helper()
	d, err := db.DeliveryByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestClaimsAreExclusive: many workers claiming batches at once never get
// the same delivery twice, and together they get every one.
func TestClaimsAreExclusive(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := openDB(t, b)
		now := time.Now().UTC().Truncate(time.Microsecond)
		const n = 200
		jobs := make([]delivery.Job, n)
		for i := range jobs {
			jobs[i] = job(fmt.Sprintf("http://receiver%d.example/hook", i%7), 3)
		}
		enqueue(t, db, now, jobs...)

		var mu sync.Mutex
		claimed := map[int64]int{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range 16 {
			wg.Go(func() {
				<-start
				for {
					batch, err := db.ClaimDeliveries(context.Background(), database.Claim{Now: now, LeaseMargin: time.Minute, Limit: 1 + w%5, PerHost: 3})
					if err != nil {
						t.Error(err)
						return
					}
					if len(batch) == 0 {
						return
					}
					mu.Lock()
					for _, d := range batch {
						claimed[d.ID]++
					}
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		if len(claimed) != n {
			t.Fatalf("%d distinct deliveries claimed, want %d", len(claimed), n)
		}
		for id, times := range claimed {
			if times != 1 {
				t.Fatalf("delivery %d claimed %d times", id, times)
			}
		}
	})
}

// TestClaimedBatchKeepsHostsUnderTheirCaps: a batch takes the oldest due
// deliveries, but no more from a host than its cap less what is in flight
// to it already.
func TestClaimedBatchKeepsHostsUnderTheirCaps(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := openDB(t, b)
		ctx := context.Background()
		c := newClock()
		var queued []*models.Delivery
		for i, host := range strings.Split("a a b c a d b a c d a a", " ") {
			queued = append(queued, enqueue(t, db, c.Now().Add(time.Duration(i)*time.Second), job("http://"+host+".example/hook", 3))...)
		}
		now := c.Now().Add(time.Minute)
		batch, err := db.ClaimDeliveries(ctx, database.Claim{
			Now: now, LeaseMargin: time.Minute, Limit: 10, PerHost: 2,
			InFlight: map[string]int{"b.example": 1, "c.example": 2, "e.example": 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		// a: its two oldest (0, 1); b: one, with one in flight (2); c: none, at
		// its cap; d: two (5, 9).
		want := []int64{queued[0].ID, queued[1].ID, queued[2].ID, queued[5].ID, queued[9].ID}
		var got []int64
		for _, d := range batch {
			got = append(got, d.ID)
			if d.Attempts != 1 || d.LeaseUntilMS != now.Add(time.Minute+5*time.Second).UnixMilli() {
				t.Fatalf("claimed delivery %d has attempts %d and lease %d", d.ID, d.Attempts, d.LeaseUntilMS)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("claimed %v, want %v (oldest first)", got, want)
		}
		rest, err := db.ClaimDeliveries(ctx, database.Claim{Now: now, LeaseMargin: time.Minute, Limit: 2, PerHost: 4})
		if err != nil {
			t.Fatal(err)
		}
		if len(rest) != 2 || rest[0].ID != queued[3].ID || rest[1].ID != queued[4].ID {
			t.Fatalf("the next batch of two is %v, want the oldest unclaimed, %d and %d", rest, queued[3].ID, queued[4].ID)
		}
	})
}

// TestPoolsShareTheQueueWithoutDuplicates runs two pools, as two replicas
// would, over one queue to fewer host slots than workers: each delivery
// arrives once, and neither pool ever has more in flight to a host than
// its cap. The pools poll once an hour, so claimed batches must be handed
// from worker to worker, not found again at a poll.
func TestPoolsShareTheQueueWithoutDuplicates(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := openDB(t, b)
		c := newClock()
		const hosts, perHost, n = 3, 2, 240
		var mu sync.Mutex
		got := map[string]int{}
		inFlight, peak := map[string]int{}, 0 // by pool and host
		var urls []string
		for range hosts {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				slot := r.UserAgent() + " " + r.Host
				mu.Lock()
				got[r.URL.RawQuery]++
				inFlight[slot]++
				peak = max(peak, inFlight[slot])
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
				mu.Lock()
				inFlight[slot]--
				mu.Unlock()
			}))
			t.Cleanup(srv.Close)
			urls = append(urls, srv.URL)
		}
		jobs := make([]delivery.Job, n)
		for i := range jobs {
			jobs[i] = job(fmt.Sprintf("%s/hook?n=%d", urls[i%hosts], i), 3)
		}
		enqueue(t, db, c.Now(), jobs...)

		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i := range 2 {
			pool := newPoolAs(db, c, delivery.Settings{Workers: 8, PerHost: perHost, PollInterval: time.Hour}, fmt.Sprint("pool-", i))
			wg.Go(func() { pool.Run(ctx) })
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if depths, err := db.QueueDepths(context.Background()); err == nil && pendingOf(depths) == 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(got) != n {
			t.Fatalf("%d distinct deliveries arrived, want %d", len(got), n)
		}
		for q, times := range got {
			if times != 1 {
				t.Fatalf("delivery %s arrived %d times", q, times)
			}
		}
		if peak != perHost {
			t.Fatalf("%d deliveries in flight to one host from one pool at most, want the cap of %d reached and kept", peak, perHost)
		}
	})
}

// TestShutdownSendsWhatWasClaimed: deliveries claimed in a batch for
// workers that had not taken them yet when the pool stopped are sent
// before Run returns, not left leased to no one until their leases run out.
func TestShutdownSendsWhatWasClaimed(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := openDB(t, b)
		c := newClock()
		recv := newReceiver(t, nil, http.StatusNoContent)
		queued := enqueue(t, db, c.Now(), job(recv.URL, 3), job(recv.URL, 3), job(recv.URL, 3))
		pool := newPool(db, c, delivery.Settings{Workers: 2, PollInterval: time.Hour})
		if n, err := pool.ClaimForIdleWorkers(context.Background(), 3); err != nil || n != 3 {
			t.Fatalf("claimed %d of 3: %v", n, err)
		}
		stopped, cancel := context.WithCancel(context.Background())
		cancel()
		pool.Run(stopped)

		if n := recv.count(); n != 3 {
			t.Fatalf("the receiver got %d of the 3 claimed deliveries", n)
		}
		for _, d := range queued {
			if got := load(t, db, d.ID); got.Status != models.DeliveryDelivered {
				t.Fatalf("delivery %d after shutdown: %+v", d.ID, got)
			}
		}
		if n := pool.HostsInFlight(); n != 0 {
			t.Fatalf("%d hosts still counted busy after shutdown", n)
		}
	})
}

// TestExpiredLeaseIsClaimedAgain: a worker that dies holding a delivery
// leaves it to be claimed again once its lease runs out, and the dead
// worker's late answer cannot overwrite the new owner's.
func TestExpiredLeaseIsClaimedAgain(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := openDB(t, b)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		d := enqueue(t, db, now, job("http://receiver.example/hook", 5))[0]

		first, err := claimOne(db, database.Claim{Now: now, LeaseMargin: 10 * time.Second})
		if err != nil || first == nil || first.ID != d.ID || first.Attempts != 1 {
			t.Fatalf("first claim: %+v, %v", first, err)
		}
		lease := 5*time.Second + 10*time.Second // the job's timeout plus the margin
		if again, _ := claimOne(db, database.Claim{Now: now.Add(lease - time.Millisecond), LeaseMargin: 10 * time.Second}); again != nil {
			t.Fatalf("claimed again while leased: %+v", again)
		}
		second, err := claimOne(db, database.Claim{Now: now.Add(lease), LeaseMargin: 10 * time.Second})
		if err != nil || second == nil || second.ID != d.ID || second.Attempts != 2 {
			t.Fatalf("claim after the lease expired: %+v, %v", second, err)
		}
		stale := database.Attempt{ID: d.ID, LeaseUntilMS: first.LeaseUntilMS, Status: models.DeliveryDelivered, At: now, NextAttemptAt: now}
		if held, err := db.RecordAttempt(ctx, stale); err != nil || held {
			t.Fatalf("the first worker's late outcome was recorded: %v %v", held, err)
		}
		current := stale
		current.LeaseUntilMS = second.LeaseUntilMS
		if held, err := db.RecordAttempt(ctx, current); err != nil || !held {
			t.Fatalf("the lease holder's outcome was not recorded: %v %v", held, err)
		}
		if got := load(t, db, d.ID); got.Status != models.DeliveryDelivered || got.DeliveredAt == nil {
			t.Fatalf("after the holder's outcome: %+v", got)
		}
	})
}

// claimOne claims at most one delivery: nil when none is due.
func claimOne(db *database.DB, c database.Claim) (*models.Delivery, error) {
	c.Limit, c.PerHost = 1, 1
	batch, err := db.ClaimDeliveries(context.Background(), c)
	if err != nil || len(batch) == 0 {
		return nil, err
	}
	return batch[0], nil
}

// receiver answers with the statuses given in turn (the last one for
// every further request) and counts requests.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	header   http.Header
	hits     int
}

func newReceiver(t testing.TB, header http.Header, statuses ...int) *receiver {
	r := &receiver{statuses: statuses, header: header}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		r.mu.Lock()
		status := r.statuses[min(r.hits, len(r.statuses)-1)]
		r.hits++
		r.mu.Unlock()
		for k, v := range r.header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, strings.Repeat("nope ", 200))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits
}

// TestRetriesFollowTheBackoffThenFail: each failed attempt is due again
// after the backoff (doubling, with at most a quarter of jitter), nothing is
// sent early, and after the last attempt the delivery is failed with the
// last error kept.
func TestRetriesFollowTheBackoffThenFail(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := openDB(t, b)
		c := newClock()
		pool := newPool(db, c, delivery.Settings{})
		recv := newReceiver(t, nil, http.StatusInternalServerError)
		d := enqueue(t, db, c.Now(), job(recv.URL, 3))[0]
		ctx := context.Background()

		for attempt := 1; attempt <= 2; attempt++ {
			failedAt := c.Now()
			if n, err := pool.Drain(ctx); err != nil || n != 1 {
				t.Fatalf("attempt %d: worked %d, %v", attempt, n, err)
			}
			got := load(t, db, d.ID)
			wait := got.NextAttemptAt.Sub(failedAt)
			base := testBackoff.Delay(attempt)
			if got.Status != models.DeliveryPending || wait < base || wait > base+base/4 {
				t.Fatalf("after attempt %d: status %s, next attempt in %s, want %s to %s", attempt, got.Status, wait, base, base+base/4)
			}
			if n, _ := pool.Drain(ctx); n != 0 {
				t.Fatalf("attempt %d: retried before the backoff was over", attempt)
			}
			c.Advance(wait)
		}
		if n, err := pool.Drain(ctx); err != nil || n != 1 {
			t.Fatalf("last attempt: worked %d, %v", n, err)
		}
		got := load(t, db, d.ID)
		if got.Status != models.DeliveryFailed || got.Attempts != 3 || got.LastStatus != 500 || !strings.Contains(got.LastError, "500") {
			t.Fatalf("after the last attempt: %+v", got)
		}
		if len(got.LastError) > 600 {
			t.Fatalf("last error kept whole (%d bytes)", len(got.LastError))
		}
		c.Advance(24 * time.Hour)
		if n, _ := pool.Drain(ctx); n != 0 || recv.count() != 3 {
			t.Fatalf("a failed delivery was tried again: %d requests", recv.count())
		}
	})
}

// TestRefusalsAreFinalAndRetryAfterIsHonoured: a 404 is not retried; a 429
// waits at least as long as Retry-After says.
func TestRefusalsAreFinalAndRetryAfterIsHonoured(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := openDB(t, b)
		c := newClock()
		pool := newPool(db, c, delivery.Settings{})
		gone := newReceiver(t, nil, http.StatusNotFound)
		busy := newReceiver(t, http.Header{"Retry-After": {"120"}}, http.StatusTooManyRequests)
		rows := enqueue(t, db, c.Now(), job(gone.URL, 5), job(busy.URL, 5))
		if n, err := pool.Drain(context.Background()); err != nil || n != 2 {
			t.Fatalf("worked %d, %v", n, err)
		}
		if got := load(t, db, rows[0].ID); got.Status != models.DeliveryFailed || got.Attempts != 1 || got.LastStatus != 404 {
			t.Fatalf("after a 404: %+v", got)
		}
		got := load(t, db, rows[1].ID)
		if wait := got.NextAttemptAt.Sub(c.Now()); got.Status != models.DeliveryPending || wait < 120*time.Second {
			t.Fatalf("after a 429 with Retry-After: 120: status %s, next attempt in %s", got.Status, wait)
		}
	})
}

// TestOneSlowHostCannotTakeEveryWorker: with a cap of two per host, a host
// that hangs holds two workers and the others keep delivering elsewhere.
func TestOneSlowHostCannotTakeEveryWorker(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := openDB(t, b)
		c := newClock()
		release := make(chan struct{})
		var inFlight, peak atomic.Int32
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			<-release
			inFlight.Add(-1)
		}))
		defer slow.Close()
		defer close(release)
		var fastHits atomic.Int32
		fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fastHits.Add(1) }))
		defer fast.Close()
		// The fast receiver is reached as "localhost": another host to the
		// cap, the same machine to the test.
		fastURL := strings.Replace(fast.URL, "127.0.0.1", "localhost", 1)

		var jobs []delivery.Job
		for range 6 {
			jobs = append(jobs, job(slow.URL, 1))
		}
		for range 4 {
			jobs = append(jobs, job(fastURL, 1))
		}
		enqueue(t, db, c.Now(), jobs...)
		pool := newPool(db, c, delivery.Settings{Workers: 6, PerHost: 2})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { pool.Run(ctx); close(done) }()

		deadline := time.Now().Add(10 * time.Second)
		for fastHits.Load() < 4 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if fastHits.Load() != 4 {
			t.Fatalf("the fast host got %d of 4 deliveries while the slow one hung", fastHits.Load())
		}
		time.Sleep(50 * time.Millisecond) // let any over-the-cap claim show
		if p := peak.Load(); p != 2 {
			t.Fatalf("%d deliveries in flight to the slow host at once, want the cap of 2", p)
		}
		cancel()
		release <- struct{}{}
		release <- struct{}{}
		<-done
	})
}

// TestDeliveredRowsArePruned: history is kept for the retention period,
// then deleted; pending and failed rows stay.
func TestDeliveredRowsArePruned(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := openDB(t, b)
		c := newClock()
		ok := newReceiver(t, nil, http.StatusOK)
		bad := newReceiver(t, nil, http.StatusGone)
		rows := enqueue(t, db, c.Now(), job(ok.URL, 1), job(bad.URL, 1))
		pool := newPool(db, c, delivery.Settings{})
		if n, err := pool.Drain(context.Background()); err != nil || n != 2 {
			t.Fatalf("worked %d, %v", n, err)
		}
		if n, err := db.PruneDelivered(context.Background(), c.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Fatalf("pruned %d fresh rows (%v)", n, err)
		}
		if n, err := db.PruneDelivered(context.Background(), c.Now().Add(time.Second)); err != nil || n != 1 {
			t.Fatalf("pruned %d rows, want the delivered one (%v)", n, err)
		}
		if _, err := db.DeliveryByID(context.Background(), rows[0].ID); err == nil {
			t.Fatal("the delivered row is still there")
		}
		if got := load(t, db, rows[1].ID); got.Status != models.DeliveryFailed {
			t.Fatalf("the failed row: %+v", got)
		}
	})
}
