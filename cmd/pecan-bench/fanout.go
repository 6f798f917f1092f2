package main

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pecan-social/pecan/federation"
)

// receiver plays the remote servers of the fanout scenario: one listener
// per server, each on its own loopback address (127.0.0.2, 127.0.0.3, …)
// and the same port, so every server is a host of its own to Pecan's
// per-host limits. It verifies each delivery's HTTP Signature with the
// author's key, as a real server would, and counts the verified ones per
// activity.
type receiver struct {
	hosts   []string
	servers []*http.Server

	mu       sync.Mutex
	keys     map[string]*rsa.PublicKey // keyId → key
	received map[string]map[string]bool
	rejected int
	lastErr  string
	changed  chan struct{}
}

const maxFanoutServers = 250

func startReceiver(servers int) (*receiver, error) {
	if servers < 1 || servers > maxFanoutServers {
		return nil, fmt.Errorf("--fanout-servers: want 1 to %d, got %d", maxFanoutServers, servers)
	}
	r := &receiver{keys: map[string]*rsa.PublicKey{}, received: map[string]map[string]bool{}, changed: make(chan struct{})}
	var err error
	for range 5 { // another process may hold the port on one of the addresses
		var lns []net.Listener
		if lns, err = listenAll(servers); err == nil {
			for _, ln := range lns {
				srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
				r.hosts, r.servers = append(r.hosts, ln.Addr().String()), append(r.servers, srv)
				go func() { _ = srv.Serve(ln) }()
			}
			return r, nil
		}
	}
	return nil, fmt.Errorf("fanout receiver: %w", err)
}

func listenAll(n int) ([]net.Listener, error) {
	first, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(first.Addr().(*net.TCPAddr).Port)
	lns := []net.Listener{first}
	for i := 1; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0."+strconv.Itoa(2+i)+":"+port)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func (r *receiver) close() {
	for _, s := range r.servers {
		_ = s.Close()
	}
}

// trust makes the receiver accept signatures by keyID with the public key.
func (r *receiver) trust(keyID, publicPEM string) error {
	key, err := federation.ParsePublicKey(publicPEM)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys[keyID] = key
	return nil
}

func (r *receiver) lookup(_ context.Context, keyID string, _ bool) (*rsa.PublicKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k := r.keys[keyID]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("unknown key %s", keyID)
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || !(req.URL.Path == "/inbox" || strings.HasSuffix(req.URL.Path, "/inbox")) {
		http.NotFound(w, req)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err == nil {
		_, err = federation.VerifyRequest(req.Context(), req, body, time.Now(), r.lookup)
	}
	var act struct {
		ID string `json:"id"`
	}
	if err == nil {
		err = json.Unmarshal(body, &act)
	}
	r.mu.Lock()
	if err != nil {
		r.rejected++
		r.lastErr = err.Error()
	} else {
		if r.received[act.ID] == nil {
			r.received[act.ID] = map[string]bool{}
		}
		r.received[act.ID][req.Host+req.URL.Path] = true
	}
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// waitFor waits until activity id has reached want distinct inboxes.
func (r *receiver) waitFor(ctx context.Context, id string, want int, limit time.Duration) (int, error) {
	timeout := time.After(limit)
	for {
		r.mu.Lock()
		got, changed, rejected, lastErr := len(r.received[id]), r.changed, r.rejected, r.lastErr
		r.mu.Unlock()
		if rejected > 0 {
			return got, fmt.Errorf("receiver rejected %d deliveries; last: %s", rejected, lastErr)
		}
		if got >= want {
			return got, nil
		}
		select {
		case <-changed:
		case <-timeout:
			return got, fmt.Errorf("%d of %d deliveries after %s", got, want, limit)
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
}

// fanoutResult is one fanout variant's timings.
type fanoutResult struct {
	Variant    string    `json:"variant"`
	Followers  int       `json:"followers"`
	Deliveries int       `json:"deliveries"`
	RunsMS     []float64 `json:"runs_ms"`
	MedianMS   float64   `json:"median_ms"`
	CPUSeconds float64   `json:"server_cpu_s_per_post,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// fanout posts as author, whose followers sit on the receiver's servers,
// and times each post from the request until the receiver has verified
// the last of the deliveries.
func fanout(ctx context.Context, c *apiClient, recv *receiver, author reader, variant string, followers, deliveries, runs, pid int) fanoutResult {
	out := fanoutResult{Variant: variant, Followers: followers, Deliveries: deliveries}
	var cpu time.Duration
	for i := range runs {
		before, _ := readProc(pid)
		began := time.Now()
		var created struct {
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		body, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("Fanout %s %d at %s #bench", variant, i, began.Format(time.RFC3339Nano))})
		if err := c.do(ctx, http.MethodPost, "/v1/posts", author.Token, body, &created); err != nil {
			out.Error = err.Error()
			return out
		}
		activity := c.base + "/posts/" + created.Data.ID + "/activity"
		if _, err := recv.waitFor(ctx, activity, deliveries, 2*time.Minute); err != nil {
			out.Error = err.Error()
			return out
		}
		out.RunsMS = append(out.RunsMS, ms(time.Since(began)))
		if after, err := readProc(pid); err == nil && pid != 0 {
			cpu += after.CPU - before.CPU
		}
	}
	sorted := slices.Sorted(slices.Values(out.RunsMS))
	out.MedianMS = sorted[len(sorted)/2]
	if pid != 0 {
		out.CPUSeconds = cpu.Seconds() / float64(runs)
	}
	return out
}

var errNoFanout = errors.New("fanout needs the tool's own server and seeded followers; skipped with --target")
