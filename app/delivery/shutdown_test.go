package delivery

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

type unsigned struct{}

func (unsigned) Sign(context.Context, *http.Request, *models.Delivery) error { return nil }

// TestShutdownSendsWhatWasClaimed: deliveries claimed in a batch for
// workers that had not taken them yet when the pool stopped are sent
// before Run returns, not left leased to no one until their leases run out.
func TestShutdownSendsWhatWasClaimed(t *testing.T) {
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
		var hits atomic.Int32
		recv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
		t.Cleanup(recv.Close)
		now := time.Now().UTC()
		var jobs []Job
		for range 3 {
			jobs = append(jobs, Job{Kind: models.DeliveryWebhook, URL: recv.URL + "/hook", Body: []byte(`{}`), Signer: "none", MaxAttempts: 3, Timeout: 5 * time.Second})
		}
		queued, err := Enqueue(ctx, db.Queries, now, jobs...)
		if err != nil {
			t.Fatal(err)
		}
		client := NewClient(ClientOptions{Policy: AddressPolicy{AllowPrivate: true}, UserAgent: "test"})
		s := Settings{Workers: 2, PerHost: 4, PollInterval: time.Hour, Backoff: Backoff{Base: time.Second, Max: time.Minute}, Retention: time.Hour}
		pool := NewPool(db, client, map[string]Signer{"none": unsigned{}}, s, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)

		pool.mu.Lock()
		pool.claimed, err = pool.claimBatch(ctx, 3)
		pool.mu.Unlock()
		if err != nil || len(pool.claimed) != 3 {
			t.Fatalf("claimed %d of 3: %v", len(pool.claimed), err)
		}
		stopped, cancel := context.WithCancel(ctx)
		cancel()
		pool.Run(stopped)

		if n := hits.Load(); n != 3 {
			t.Fatalf("the receiver got %d of the 3 claimed deliveries", n)
		}
		for _, d := range queued {
			if got, err := db.DeliveryByID(ctx, d.ID); err != nil || got.Status != models.DeliveryDelivered {
				t.Fatalf("delivery %d after shutdown: %+v, %v", d.ID, got, err)
			}
		}
		if len(pool.busy) != 0 {
			t.Fatalf("hosts still counted busy after shutdown: %v", pool.busy)
		}
	})
}
