package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/delivery"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// BenchmarkQueueThroughput measures deliveries per second from queue to a
// local receiver that answers at once, with 8 workers: the cost of the
// queue itself (claim, send, record). It runs on PostgreSQL when
// PECAN_TEST_DATABASE_URL is set, else on SQLite.
//
//	PECAN_TEST_DATABASE_URL=postgres://… go test ./app/delivery -run '^$' -bench Queue -benchtime 5000x
func BenchmarkQueueThroughput(b *testing.B) {
	name := "sqlite"
	if os.Getenv(testenv.DatabaseURLEnv) != "" {
		name = "postgres"
	}
	db := openDB(b, testenv.New(b, name))
	var hits atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()

	c := newClock()
	jobs := make([]delivery.Job, 0, 500)
	for queued := 0; queued < b.N; queued += len(jobs) {
		jobs = jobs[:0]
		for range min(500, b.N-queued) {
			jobs = append(jobs, job(recv.URL, 3))
		}
		enqueue(b, db, c.Now(), jobs...)
	}
	pool := newPool(db, c, delivery.Settings{Workers: 8, PerHost: 8})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})

	b.ResetTimer()
	start := time.Now()
	go func() { pool.Run(ctx); close(done) }()
	// Wait on the receiver's count, which costs the database nothing, then
	// for the last outcomes to be recorded.
	for hits.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	for {
		depths, err := db.QueueDepths(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if pendingOf(depths) == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	<-done
	if hits.Load() != int64(b.N) {
		b.Fatalf("receiver got %d requests for %d deliveries", hits.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
}

func pendingOf(depths []database.QueueDepth) int64 {
	var n int64
	for _, d := range depths {
		if d.Status == string(models.DeliveryPending) {
			n += d.Count
		}
	}
	return n
}
