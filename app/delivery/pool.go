package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/models"
)

// Signer signs a request just before it is sent, so every attempt carries
// a fresh date and signature over the same body.
type Signer interface {
	Sign(ctx context.Context, req *http.Request, d *models.Delivery) error
}

// Preparer is a Signer that completes a delivery at send time with what
// was not known when it was queued: the id a receiver gave an earlier
// delivery, say. Prepare changes a copy; the stored row stays as it was.
type Preparer interface {
	Prepare(ctx context.Context, d *models.Delivery) error
}

// Receiver is a Signer that reads the answer to a delivered request, to
// keep the id the receiver gave what it was sent, say. Delivered runs in
// the transaction that records the delivery and writes through q only; an
// error rolls that back and the attempt counts as failed.
type Receiver interface {
	Delivered(ctx context.Context, q database.Queries, d *models.Delivery, answer []byte) error
}

// Permanent marks an error that retrying cannot mend: the delivery fails
// at once instead of using up its attempts.
func Permanent(err error) error { return &permanentError{err: err} }

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// answerError is a Receiver's failure to use an answer.
type answerError struct{ err error }

func (e *answerError) Error() string { return "handle the answer: " + e.err.Error() }
func (e *answerError) Unwrap() error { return e.err }

// Settings tune the pool.
type Settings struct {
	Workers      int
	PerHost      int           // most deliveries in flight to one host from this process
	PollInterval time.Duration // how often an idle pool looks for due deliveries
	Backoff      Backoff
	Retention    time.Duration // delivered rows older than this are deleted
}

// leaseMargin is how much longer than its timeout a worker owns a claimed
// delivery: time to record the outcome after the request gave up.
const leaseMargin = 10 * time.Second

// maxResponseBody caps how much of an answer is read; only its first bytes
// are kept, as the error of a failed attempt.
const (
	maxResponseBody = 64 << 10
	maxErrorLength  = 500
)

// Pool is the set of workers that send deliveries.
type Pool struct {
	db       *database.DB
	client   *http.Client
	signers  map[string]Signer
	settings Settings
	now      func() time.Time
	logger   *slog.Logger
	metrics  *metrics
	wake     chan struct{}

	mu      sync.Mutex
	busy    map[string]int     // deliveries in flight per target host
	claimed []*models.Delivery // claimed for idle workers, not yet taken
	idle    int                // workers waiting for work
	waiting atomic.Int32       // workers waiting for mu to claim
}

// NewPool builds a pool; Run starts it. signers maps each delivery's Signer
// name to what signs it.
func NewPool(db *database.DB, client *http.Client, signers map[string]Signer, s Settings, now func() time.Time, logger *slog.Logger, reg prometheus.Registerer) *Pool {
	return &Pool{
		db: db, client: client, signers: signers, settings: s, now: now, logger: logger,
		metrics: newMetrics(reg, db), wake: make(chan struct{}, 1), busy: map[string]int{},
	}
}

// Notify wakes an idle worker to look for due deliveries now rather than
// at the next poll.
func (p *Pool) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run sends deliveries until ctx ends, then lets every worker finish the
// delivery in its hands and returns.
func (p *Pool) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range p.settings.Workers {
		wg.Go(func() { p.worker(ctx) })
	}
	wg.Go(func() { p.housekeeping(ctx) })
	wg.Wait()
}

func (p *Pool) worker(ctx context.Context) {
	for ctx.Err() == nil {
		did, err := p.Work(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			p.logger.Error("delivery worker", "error", err.Error())
			sleep(ctx, p.settings.PollInterval)
		case did:
			p.Notify() // there may be more: let an idle peer look too
		default:
			p.waitIdle(ctx)
		}
	}
	// Claimed for this process, so sent by it: otherwise they would wait
	// out their leases after a restart.
	for d := p.takeClaimed(); d != nil; d = p.takeClaimed() {
		p.sendAndRelease(context.WithoutCancel(ctx), d)
	}
}

// waitIdle waits for a wake-up, counted among the idle workers a claim
// may take deliveries for.
func (p *Pool) waitIdle(ctx context.Context) {
	p.mu.Lock()
	p.idle++
	p.mu.Unlock()
	select {
	case <-ctx.Done():
	case <-p.wake:
	}
	p.mu.Lock()
	p.idle--
	p.mu.Unlock()
}

// housekeeping wakes a worker every poll interval, so deliveries that came
// due (a retry, a row another process queued) are found, and deletes old
// delivered rows now and then.
func (p *Pool) housekeeping(ctx context.Context) {
	tick := time.NewTicker(p.settings.PollInterval)
	defer tick.Stop()
	var lastPrune time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p.Notify()
		if now := p.now(); now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			if _, err := p.db.PruneDelivered(ctx, now.Add(-p.settings.Retention)); err != nil && ctx.Err() == nil {
				p.logger.Error("prune delivered", "error", err.Error())
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Work claims one due delivery and sends it. It reports whether there was
// one. The send runs to its own timeout even if ctx ends meanwhile, so a
// shutdown never abandons a request half made.
func (p *Pool) Work(ctx context.Context) (bool, error) {
	d, err := p.claim(ctx)
	if err != nil || d == nil {
		return false, err
	}
	return true, p.sendAndRelease(context.WithoutCancel(ctx), d)
}

func (p *Pool) sendAndRelease(ctx context.Context, d *models.Delivery) error {
	defer p.release(d.TargetHost)
	return p.send(ctx, d)
}

// Drain works until nothing is due: for tests and benchmarks that drive the
// queue by hand.
func (p *Pool) Drain(ctx context.Context) (int, error) {
	n := 0
	for {
		did, err := p.Work(ctx)
		if err != nil || !did {
			return n, err
		}
		n++
	}
}

// claim takes a delivery claimed earlier for another worker or, when
// there is none, claims a batch: one for this worker, one for each idle
// worker (the wake-ups that follow hand them out) and one for each worker
// waiting for the lock to claim. The lock keeps the per-host counts true
// while a claim is out: two claims at once could both take a host's last
// free slot.
func (p *Pool) claim(ctx context.Context) (*models.Delivery, error) {
	p.waiting.Add(1)
	p.mu.Lock()
	p.waiting.Add(-1)
	defer p.mu.Unlock()
	if len(p.claimed) == 0 {
		limit := 1 + p.idle + int(p.waiting.Load())
		batch, err := p.claimBatch(ctx, limit)
		if err != nil {
			return nil, err
		}
		p.claimed = batch
		if len(batch) > 0 && len(batch) < limit {
			// A short batch: the hosts it filled may have hidden others'
			// due rows from its scan. Another claim, without them, may find
			// more.
			p.Notify()
		}
	}
	d := p.popClaimed()
	if len(p.claimed) > 0 {
		p.Notify() // an idle worker takes the next
	}
	return d, nil
}

// claimBatch claims up to limit deliveries, keeping every host under its
// cap, and counts them against their hosts. p.mu is held.
func (p *Pool) claimBatch(ctx context.Context, limit int) ([]*models.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Not cancelled half way: the claim may have been committed when the
	// driver gives up waiting for its answer, leaving a batch leased to no
	// one until the leases run out.
	ctx = context.WithoutCancel(ctx)
	now := p.now().UTC().Truncate(time.Microsecond)
	batch, err := p.db.ClaimDeliveries(ctx, database.Claim{
		Now: now, LeaseMargin: leaseMargin, Limit: limit, PerHost: p.settings.PerHost, InFlight: p.busy,
	})
	if err != nil {
		return nil, err
	}
	for _, d := range batch {
		p.busy[d.TargetHost]++
	}
	return batch, nil
}

func (p *Pool) takeClaimed() *models.Delivery {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.popClaimed()
}

// popClaimed takes the oldest claimed delivery, or nil. p.mu is held.
func (p *Pool) popClaimed() *models.Delivery {
	if len(p.claimed) == 0 {
		return nil
	}
	d := p.claimed[0]
	p.claimed = p.claimed[1:]
	return d
}

func (p *Pool) release(host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.busy[host]--; p.busy[host] <= 0 {
		delete(p.busy, host)
	}
}

// outcome is what one attempt came to.
type outcome struct {
	status     int
	err        error
	retryAfter time.Duration
	answer     []byte // the body of a 2xx answer
}

func (p *Pool) send(ctx context.Context, d *models.Delivery) error {
	start := time.Now()
	o := p.attempt(ctx, d)
	p.metrics.attempt(d.Kind, time.Since(start))
	return p.record(ctx, d, o)
}

func (p *Pool) attempt(ctx context.Context, d *models.Delivery) outcome {
	ctx, cancel := context.WithTimeout(ctx, d.Timeout())
	defer cancel()
	signer, ok := p.signers[d.Signer]
	if !ok {
		return outcome{err: fmt.Errorf("no signer named %q", d.Signer)}
	}
	if prep, ok := signer.(Preparer); ok {
		prepared := *d
		if err := prep.Prepare(ctx, &prepared); err != nil {
			return outcome{err: fmt.Errorf("prepare: %w", err)}
		}
		d = &prepared
	}
	method := d.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, d.TargetURL, strings.NewReader(d.Body))
	if err != nil {
		return outcome{err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range d.Headers {
		req.Header.Set(k, v)
	}
	if err := signer.Sign(ctx, req, d); err != nil {
		return outcome{err: fmt.Errorf("sign: %w", err)}
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return outcome{err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	o := outcome{status: resp.StatusCode, retryAfter: retryAfter(resp.Header, p.now())}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		o.err = fmt.Errorf("%s: %s", resp.Status, truncate(string(body), maxErrorLength))
	} else {
		o.answer = body
	}
	return o
}

func truncate(s string, n int) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "")
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// record stores the outcome: delivered, due again after a backoff, or
// failed for good once out of attempts or refused for good by the server.
func (p *Pool) record(ctx context.Context, d *models.Delivery, o outcome) error {
	a, result := p.judge(d, o)
	held, err := p.store(ctx, d, a, o.answer)
	var answerErr *answerError
	if errors.As(err, &answerErr) {
		o.err = answerErr
		a, result = p.judge(d, o)
		held, err = p.db.RecordAttempt(ctx, a)
	}
	p.metrics.outcome(d.Kind, result)
	if err != nil {
		return err
	}
	if !held {
		p.logger.Warn("delivery lease lost before its outcome was recorded", "delivery_id", d.ID, "outcome", result)
	}
	if result != "delivered" {
		p.logger.Info("delivery attempt failed", "delivery_id", d.ID, "kind", d.Kind, "host", d.TargetHost,
			"attempt", d.Attempts, "of", d.MaxAttempts, "outcome", result, "error", a.LastError)
	}
	return nil
}

// judge turns an outcome into what to record: delivered, due again after
// a backoff, or failed.
func (p *Pool) judge(d *models.Delivery, o outcome) (database.Attempt, string) {
	now := p.now().UTC().Truncate(time.Microsecond)
	a := database.Attempt{ID: d.ID, LeaseUntilMS: d.LeaseUntilMS, LastStatus: o.status, At: now, NextAttemptAt: d.NextAttemptAt}
	switch {
	case o.err == nil:
		a.Status = models.DeliveryDelivered
		return a, "delivered"
	case d.Attempts >= d.MaxAttempts || permanent(o):
		a.Status, a.LastError = models.DeliveryFailed, errorText(o.err)
		return a, "failed"
	default:
		a.Status, a.LastError = models.DeliveryPending, errorText(o.err)
		a.NextAttemptAt = p.settings.Backoff.Next(now, d.Attempts, o.retryAfter).Truncate(time.Microsecond)
		return a, "retry"
	}
}

// store records an attempt. A delivered one's answer goes to its signer,
// if it wants it, in the same transaction.
func (p *Pool) store(ctx context.Context, d *models.Delivery, a database.Attempt, answer []byte) (bool, error) {
	r, ok := p.signers[d.Signer].(Receiver)
	if !ok || a.Status != models.DeliveryDelivered {
		return p.db.RecordAttempt(ctx, a)
	}
	var held bool
	err := p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		var err error
		if held, err = q.RecordAttempt(ctx, a); err != nil || !held {
			return err
		}
		if err := r.Delivered(ctx, q, d, answer); err != nil {
			return &answerError{err: err}
		}
		return nil
	})
	return held, err
}

// permanent reports whether retrying cannot help: the server understood
// the request and refused it (a 4xx other than 401, 408 and 429, as
// Mastodon treats them), or Pecan cannot even build or sign it.
func permanent(o outcome) bool {
	var marked *permanentError
	if errors.Is(o.err, ErrRefusedAddress) || errors.As(o.err, &marked) {
		return true
	}
	s := o.status
	return s >= 400 && s < 500 && s != http.StatusUnauthorized && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return truncate(err.Error(), maxErrorLength)
}
