package database

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// TestDeliveriesQueuedHookRunsOnceCommitted wants the delivery workers
// woken when queued deliveries can be claimed: at once outside a
// transaction, at commit inside one, never for a rolled-back one.
func TestDeliveriesQueuedHookRunsOnceCommitted(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db := migratedDB(t, b)
		var woken, seen atomic.Int32
		db.OnDeliveriesQueued(func() {
			woken.Add(1)
			// Read on another connection: the rows must be committed.
			n, err := db.Bun.NewSelect().Model((*models.Delivery)(nil)).Count(ctx)
			if err != nil {
				t.Error(err)
			}
			seen.Store(int32(n))
		})
		want := func(n int32, when string) {
			t.Helper()
			if got := woken.Load(); got != n {
				t.Fatalf("%s: the hook ran %d times, want %d", when, got, n)
			}
		}

		if err := db.InsertDeliveries(ctx, []*models.Delivery{testDelivery(0)}); err != nil {
			t.Fatal(err)
		}
		want(1, "after a delivery queued outside a transaction")

		err := db.InTx(ctx, func(ctx context.Context, q Queries) error {
			if err := q.InsertDeliveries(ctx, []*models.Delivery{testDelivery(1), testDelivery(2)}); err != nil {
				return err
			}
			if err := q.InsertDeliveries(ctx, []*models.Delivery{testDelivery(3)}); err != nil {
				return err
			}
			want(1, "inside the transaction, before it commits")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want(2, "after the transaction committed")
		if n := seen.Load(); n != 4 {
			t.Fatalf("the hook saw %d committed deliveries, want 4", n)
		}

		rollback := errors.New("roll back")
		err = db.InTx(ctx, func(ctx context.Context, q Queries) error {
			if err := q.InsertDeliveries(ctx, []*models.Delivery{testDelivery(4)}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("InTx = %v, want the rollback error", err)
		}
		want(2, "after a rolled-back transaction")

		if err := db.InTx(ctx, func(context.Context, Queries) error { return nil }); err != nil {
			t.Fatal(err)
		}
		want(2, "after a transaction that queued nothing")
	})
}

// TestRequeuedDeliveryWakesTheWorkers wants a redelivery sent now, not at
// the next poll, and a requeue that changed nothing to wake no one.
func TestRequeuedDeliveryWakesTheWorkers(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		db := migratedDB(t, b)
		d := testDelivery(0)
		if err := db.InsertDeliveries(ctx, []*models.Delivery{d}); err != nil {
			t.Fatal(err)
		}
		var woken atomic.Int32
		db.OnDeliveriesQueued(func() { woken.Add(1) })
		if done, err := db.RequeueDelivery(ctx, d.ID, d.Signer, d.SignerRef, time.Now()); err != nil || done {
			t.Fatalf("requeue of a pending delivery = %v, %v; want false", done, err)
		}
		if n := woken.Load(); n != 0 {
			t.Fatalf("a requeue that changed nothing ran the hook %d times", n)
		}
		if _, err := db.Bun.NewUpdate().Model((*models.Delivery)(nil)).Set("status = ?", models.DeliveryDelivered).Where("id = ?", d.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if done, err := db.RequeueDelivery(ctx, d.ID, d.Signer, d.SignerRef, time.Now()); err != nil || !done {
			t.Fatalf("requeue of a delivered delivery = %v, %v; want true", done, err)
		}
		if n := woken.Load(); n != 1 {
			t.Fatalf("a requeue ran the hook %d times, want 1", n)
		}
	})
}

func testDelivery(n int) *models.Delivery {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return &models.Delivery{
		MessageID: fmt.Sprintf("msg_test_%d_%d", n, now.UnixNano()), Kind: models.DeliveryWebhook, Method: "POST",
		Status: models.DeliveryPending, TargetURL: "https://example.com/hook", TargetHost: "example.com",
		Body: "{}", Signer: "webhook", SignerRef: 1, MaxAttempts: 3, TimeoutMS: 1000,
		NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
	}
}

// TestClaimWalksTheDueIndex: a claim reads the oldest due rows through
// deliveries_due_idx. On SQLite, left to itself, it read every pending row
// through deliveries_status_idx and sorted them: fanout to 1,000 inboxes
// took 10 s rather than 3.
func TestClaimWalksTheDueIndex(t *testing.T) {
	db := migratedDB(t, testenv.New(t, "sqlite"))
	query, _, err := db.claimQuery(Claim{Now: time.Now(), Limit: 8, PerHost: 4, InFlight: map[string]int{"a.example": 4, "b.example": 1}})
	if err != nil {
		t.Fatal(err)
	}
	var plan []map[string]any
	if err := db.Bun.NewRaw("EXPLAIN QUERY PLAN "+query.String()).Scan(context.Background(), &plan); err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, p := range plan {
		steps = append(steps, fmt.Sprint(p["detail"]))
	}
	text := strings.Join(steps, "\n")
	if !strings.Contains(text, "USING INDEX deliveries_due_idx") || strings.Contains(text, "deliveries_status_idx") {
		t.Fatalf("the claim's plan:\n%s", text)
	}
}
