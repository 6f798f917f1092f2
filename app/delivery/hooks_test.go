package delivery_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/delivery"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// hookedSigner is a signer with both hooks: Prepare points the request at
// a path chosen per attempt, and Delivered keeps the answers, or refuses
// the first few.
type hookedSigner struct {
	mu       sync.Mutex
	path     string
	prepErr  error
	answers  []string
	refusals int
}

func (s *hookedSigner) Sign(context.Context, *http.Request, *models.Delivery) error { return nil }

func (s *hookedSigner) Prepare(_ context.Context, d *models.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d.TargetURL += s.path
	return s.prepErr
}

func (s *hookedSigner) Delivered(_ context.Context, _ database.Queries, _ *models.Delivery, answer []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refusals > 0 {
		s.refusals--
		return errors.New("no id in the answer")
	}
	s.answers = append(s.answers, string(answer))
	return nil
}

// echoServer answers each request with its method and path, and lists them.
func echoServer(t *testing.T) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		_, _ = io.WriteString(w, `{"id":"`+r.Method+" "+r.URL.Path+`"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

func hookedPool(db *database.DB, c *apptest.Clock, s *hookedSigner) *delivery.Pool {
	client := delivery.NewClient(delivery.ClientOptions{Policy: delivery.AddressPolicy{AllowPrivate: true}, UserAgent: "test"})
	settings := delivery.Settings{Workers: 1, PerHost: 1, PollInterval: 10 * time.Millisecond, Backoff: testBackoff, Retention: time.Hour}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	return delivery.NewPool(db, client, map[string]delivery.Signer{"hooked": s}, settings, c.Now, logger, nil)
}

// TestDeliveryHooks: a delivery goes with its method; Prepare changes
// what one attempt sends, never the stored row; the answer of a delivered
// request reaches Delivered, and an answer it cannot use makes the attempt
// a failure that is tried again; an error marked Permanent fails the
// delivery at once.
func TestDeliveryHooks(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db := openDB(t, b)
		c := newClock()
		signer := &hookedSigner{path: "/first", refusals: 1}
		pool := hookedPool(db, c, signer)
		srv, seen := echoServer(t)
		ctx := context.Background()
		j := job(srv.URL+"/statuses", 5)
		j.Signer, j.Method = "hooked", http.MethodPut
		d := enqueue(t, db, c.Now(), j)[0]
		if d.Method != http.MethodPut || enqueue(t, db, c.Now().Add(time.Hour), job(srv.URL, 1))[0].Method != http.MethodPost {
			t.Fatalf("methods %q and the default", d.Method)
		}

		if n, err := pool.Drain(ctx); err != nil || n != 1 {
			t.Fatalf("first attempt: %d, %v", n, err)
		}
		got := load(t, db, d.ID)
		if got.Status != models.DeliveryPending || got.LastError != "handle the answer: no id in the answer" || got.TargetURL != srv.URL+"/statuses" {
			t.Fatalf("after an answer Delivered refused: %+v", got)
		}
		c.Advance(time.Minute)
		signer.mu.Lock()
		signer.path = "/second"
		signer.mu.Unlock()
		if n, err := pool.Drain(ctx); err != nil || n != 1 {
			t.Fatalf("second attempt: %d, %v", n, err)
		}
		if got = load(t, db, d.ID); got.Status != models.DeliveryDelivered {
			t.Fatalf("after the second attempt: %+v", got)
		}
		if s := seen(); len(s) != 2 || s[0] != "PUT /statuses/first" || s[1] != "PUT /statuses/second" {
			t.Fatalf("requests %v", s)
		}
		if len(signer.answers) != 1 || signer.answers[0] != `{"id":"PUT /statuses/second"}` {
			t.Fatalf("answers %v", signer.answers)
		}

		signer.mu.Lock()
		signer.prepErr = delivery.Permanent(errors.New("nothing to edit"))
		signer.mu.Unlock()
		doomed := enqueue(t, db, c.Now(), j)[0]
		if _, err := pool.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if got = load(t, db, doomed.ID); got.Status != models.DeliveryFailed || got.Attempts != 1 || got.LastError != "prepare: nothing to edit" {
			t.Fatalf("a permanent error: %+v", got)
		}
		if len(seen()) != 2 {
			t.Fatal("a delivery that could not be prepared was sent")
		}
	})
}
