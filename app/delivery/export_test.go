package delivery

import "context"

// ClaimForIdleWorkers claims up to n deliveries as a claim does for idle
// workers, and leaves them for the workers to take. It reports how many.
func (p *Pool) ClaimForIdleWorkers(ctx context.Context, n int) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	batch, err := p.claimBatch(ctx, n)
	p.claimed = append(p.claimed, batch...)
	return len(batch), err
}

// HostsInFlight is how many hosts the pool counts deliveries in flight to.
func (p *Pool) HostsInFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.busy)
}
