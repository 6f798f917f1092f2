package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/pecan-social/pecan/app/testenv"
)

// TestDeliveriesSurviveSIGKILL is the queue's promise kept by a real
// process: 500 posts, a receiver that fails the first two attempts of each
// delivery, the server killed with SIGKILL halfway through delivering, then
// started again. Every event arrives, none is lost, and the duplicates a
// crash causes carry the webhook-id of the original.
func TestDeliveriesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildPecan(t)
	for _, name := range testenv.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runCrashTest(t, bin, testenv.New(t, name))
		})
	}
}

func buildPecan(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pecan")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

const crashPosts = 500

func runCrashTest(t *testing.T, bin string, b testenv.Backend) {
	recv := newCrashReceiver(t)
	proc := newProcess(t, bin, b)
	token := proc.setUp(t)

	proc.start(t)
	hook := proc.createWebhook(t, token, recv.URL)
	recv.setSecret(hook.Secret)
	proc.post(t, token, crashPosts)

	// The receiver calls for the kill while it holds a successful attempt
	// unanswered, halfway through: that delivery must arrive again, under
	// the same webhook-id.
	select {
	case <-recv.killNow:
	case <-time.After(60 * time.Second):
		t.Fatalf("only %d deliveries in a minute", recv.delivered())
	}
	proc.kill(t)
	close(recv.killed)
	atKill := recv.delivered()
	t.Logf("%s: killed with %d of %d delivered", b, atKill, crashPosts)

	proc.start(t)
	waitUntil(t, 120*time.Second, "every delivery", func() bool { return recv.delivered() == crashPosts })
	proc.stop(t)
	recv.check(t, atKill)
}

// crashReceiver fails the first two attempts of each message, verifies
// every request, and remembers which message ids each post arrived under.
type crashReceiver struct {
	*httptest.Server
	mu        sync.Mutex
	secret    string
	attempts  map[string]int             // webhook-id → attempts seen
	idsByPost map[string]map[string]bool // post id → webhook-ids it came with
	done      map[string]bool            // post ids accepted
	requests  int
	bad       []string
	killNow   chan struct{} // closed when the receiver wants the server killed
	killed    chan struct{} // closed once it is
	calledFor string        // the post whose answer was held across the kill
}

func newCrashReceiver(t *testing.T) *crashReceiver {
	r := &crashReceiver{
		attempts: map[string]int{}, idsByPost: map[string]map[string]bool{}, done: map[string]bool{},
		killNow: make(chan struct{}), killed: make(chan struct{}),
	}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *crashReceiver) setSecret(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = s
}

func (r *crashReceiver) serve(w http.ResponseWriter, req *http.Request) {
	time.Sleep(20 * time.Millisecond) // a receiver with some work to do, so the kill lands mid-way
	body, _ := io.ReadAll(req.Body)
	var payload struct {
		Event struct {
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		} `json:"event"`
	}
	_ = json.Unmarshal(body, &payload)
	id, post := req.Header.Get("webhook-id"), payload.Event.Data.ID
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	wh, err := standardwebhooks.NewWebhook(r.secret)
	if err == nil {
		err = wh.Verify(body, req.Header)
	}
	if err != nil || post == "" {
		r.bad = append(r.bad, fmt.Sprintf("%s: %v %s", id, err, body))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if r.idsByPost[post] == nil {
		r.idsByPost[post] = map[string]bool{}
	}
	r.idsByPost[post][id] = true
	if r.attempts[id]++; r.attempts[id] <= 2 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if len(r.done) >= crashPosts/2 && r.calledFor == "" {
		r.calledFor = post
		close(r.killNow)
		r.mu.Unlock()
		<-r.killed // the sender dies before it hears the 200, so it is not done
		r.mu.Lock()
		return
	}
	r.done[post] = true
}

func (r *crashReceiver) delivered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.done)
}

func (r *crashReceiver) check(t *testing.T, atKill int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		t.Fatalf("%d requests did not verify, e.g. %s", len(r.bad), r.bad[0])
	}
	if len(r.done) != crashPosts || len(r.idsByPost) != crashPosts {
		t.Fatalf("%d posts delivered, %d seen, want %d", len(r.done), len(r.idsByPost), crashPosts)
	}
	for post, ids := range r.idsByPost {
		if len(ids) != 1 {
			t.Fatalf("post %s arrived under %d webhook-ids", post, len(ids))
		}
	}
	extra := 0
	for _, n := range r.attempts {
		extra += max(n-3, 0)
	}
	var held string
	for id := range r.idsByPost[r.calledFor] {
		held = id
	}
	if r.attempts[held] < 4 {
		t.Fatalf("the delivery answered after the kill arrived %d times; it must come again", r.attempts[held])
	}
	t.Logf("%d requests for %d events (%d delivered before the kill); %d were repeats after a success", r.requests, crashPosts, atKill, extra)
}

// process is a pecan binary run the way an operator runs it.
type process struct {
	bin  string
	env  []string
	addr string
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

func newProcess(t *testing.T, bin string, b testenv.Backend) *process {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	env := append(os.Environ(),
		"PECAN_LISTEN="+addr, "PECAN_HOST="+addr, "PECAN_SCHEME=http",
		"PECAN_DATABASE_URL="+b.DatabaseURL, "PECAN_REDIS_URL="+b.RedisURL, "PECAN_REDIS_PREFIX="+b.RedisPrefix,
		"PECAN_DELIVERY_ALLOW_PRIVATE_ADDRESSES=true", "PECAN_RATE_LIMITS_ENABLED=false",
		"PECAN_DELIVERY_BACKOFF_BASE=50ms", "PECAN_DELIVERY_BACKOFF_MAX=500ms", "PECAN_DELIVERY_POLL_INTERVAL=50ms",
		"PECAN_DELIVERY_PER_HOST=4", "PECAN_LOG_LEVEL=warn", "PECAN_DATABASE_MAX_OPEN_CONNS=10",
	)
	if b.RedisPrefix == "" {
		env = append(env, "PECAN_REDIS_PREFIX=pecan:")
	}
	return &process{bin: bin, env: env, addr: addr, logs: &bytes.Buffer{}}
}

func (p *process) command(args ...string) *exec.Cmd {
	cmd := exec.Command(p.bin, args...)
	cmd.Env = p.env
	return cmd
}

// setUp makes the user and token with the command line, as an operator would.
func (p *process) setUp(t *testing.T) string {
	t.Helper()
	create := p.command("user", "create", "--username", "crash", "--password-stdin")
	create.Stdin = strings.NewReader("a long password\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("user create: %v\n%s", err, out)
	}
	out, err := p.command("token", "create", "--username", "crash", "--scopes", "basic,write_post,webhooks").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func (p *process) start(t *testing.T) {
	t.Helper()
	p.cmd = p.command("serve")
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd := p.cmd
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", lastLines(p.logs.String(), 40))
		}
	})
	waitUntil(t, 30*time.Second, "the server to answer", func() bool {
		resp, err := http.Get("http://" + p.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
}

func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

func (p *process) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, p.logs)
	}
}

func (p *process) call(t *testing.T, token, method, path string, body any) []byte {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, "http://"+p.addr+path, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
	return out
}

type createdHook struct {
	Data struct {
		Secret string `json:"secret"`
	} `json:"data"`
}

func (p *process) createWebhook(t *testing.T, token, url string) struct{ Secret string } {
	var out createdHook
	body := map[string]any{"name": "crash test", "url": url, "events": []string{"post.created"}, "retry_count": 10, "timeout_seconds": 5}
	if err := json.Unmarshal(p.call(t, token, "POST", "/v1/webhooks", body), &out); err != nil {
		t.Fatal(err)
	}
	return struct{ Secret string }{out.Data.Secret}
}

// post makes n posts from four clients at once.
func (p *process) post(t *testing.T, token string, n int) {
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			for i := c; i < n; i += 4 {
				p.call(t, token, "POST", "/v1/posts", map[string]any{"text": fmt.Sprintf("crash test post %d", i)})
			}
		})
	}
	wg.Wait()
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out after %s waiting for %s", limit, what)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
