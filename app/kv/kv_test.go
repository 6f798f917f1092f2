package kv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"

	"github.com/pecan-social/pecan/app/kv"
	"github.com/pecan-social/pecan/app/testenv"
)

// backend is one implementation under test, with a way to move its time.
type backend struct {
	name    string
	store   kv.Backend
	advance func(t *testing.T, d time.Duration) // memory: moves the clock; redis: sleeps
}

// forEach runs fn on the in-process store and, when PECAN_TEST_REDIS_URL is
// set, on Redis under a prefix of its own.
func forEach(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		m := kv.NewMemory()
		now := time.Now()
		var mu sync.Mutex
		m.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		fn(t, backend{name: "memory", store: m, advance: func(_ *testing.T, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			now = now.Add(d)
		}})
	})
	if os.Getenv(testenv.RedisURLEnv) == "" {
		return
	}
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		fn(t, backend{name: "redis", store: newRedis(t, testenv.NewRedisPrefix(t)), advance: func(_ *testing.T, d time.Duration) { time.Sleep(d) }})
	})
}

// newRedis opens a store under prefix (from testenv.NewRedisPrefix, which
// removes its keys), closed when the test ends.
func newRedis(t *testing.T, prefix string) *kv.Redis {
	t.Helper()
	r, err := kv.OpenRedis(os.Getenv(testenv.RedisURLEnv), prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestExactlyLimitAllowedUnderConcurrency(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		// Per hour, so Redis (which keeps its own time) cannot refill the
		// bucket while a slow run is still sending the burst.
		limit := kv.Limit{Count: 20, Period: time.Hour}
		var (
			wg              sync.WaitGroup
			mu              sync.Mutex
			allowed, denied int
			start           = make(chan struct{})
		)
		for range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res, err := b.store.Allow(ctx, "burst", limit)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("allow: %v", err)
				case res.Allowed:
					allowed++
					if res.Remaining < 0 || res.Remaining > 19 || res.RetryAfter != 0 {
						t.Errorf("allowed result %+v", res)
					}
				default:
					denied++
					if res.Remaining != 0 || res.RetryAfter <= 0 || res.Limit != 20 {
						t.Errorf("denied result %+v", res)
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		if allowed != 20 || denied != 180 {
			t.Fatalf("allowed %d, denied %d; want 20 and 180", allowed, denied)
		}
		if res, err := b.store.Allow(ctx, "another key", limit); err != nil || !res.Allowed {
			t.Fatalf("a fresh key was limited: %+v %v", res, err)
		}
	})
}

func TestRemainingCountsDownAndRefills(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		// The countdown uses a long period so no refill can land between calls.
		slow := kv.Limit{Count: 2, Period: time.Hour}
		for want := 1; want >= 0; want-- {
			res, err := b.store.Allow(ctx, "countdown", slow)
			if err != nil || !res.Allowed || res.Remaining != want || res.ResetAfter <= 0 {
				t.Fatalf("want remaining %d, got %+v %v", want, res, err)
			}
		}
		if res, _ := b.store.Allow(ctx, "countdown", slow); res.Allowed || res.RetryAfter <= 0 {
			t.Fatalf("third event allowed: %+v", res)
		}

		// The refill needs a short period on Redis, whose clock only real
		// time moves. Calls until the first refusal, then a whole period:
		// whatever the pace of the calls, the bucket is full again.
		fast := kv.Limit{Count: 2, Period: time.Second}
		refused := false
		for range 20 {
			if res, err := b.store.Allow(ctx, "refill", fast); err != nil {
				t.Fatal(err)
			} else if !res.Allowed {
				refused = true
				break
			}
		}
		if !refused {
			t.Fatalf("20 calls never exhausted a limit of 2/s")
		}
		b.advance(t, 1100*time.Millisecond)
		if res, err := b.store.Allow(ctx, "refill", fast); err != nil || !res.Allowed || res.Remaining != 1 {
			t.Fatalf("after the period: %+v %v", res, err)
		}
	})
}

func TestSetNXHasOneWinner(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			wins   int
			winner string
			start  = make(chan struct{})
		)
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				value := string(rune('A' + i%26))
				ok, err := b.store.SetNX(ctx, "once", value, time.Minute)
				if err != nil {
					t.Errorf("setnx: %v", err)
				}
				if ok {
					mu.Lock()
					wins++
					winner = value
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d winners, want 1", wins)
		}
		if got, ok, err := b.store.Get(ctx, "once"); err != nil || !ok || got != winner {
			t.Fatalf("get = %q %v %v, want the winner %q", got, ok, err, winner)
		}
		if err := b.store.Delete(ctx, "once"); err != nil {
			t.Fatal(err)
		}
		if ok, err := b.store.SetNX(ctx, "once", "again", time.Minute); err != nil || !ok {
			t.Fatalf("setnx after delete: %v %v", ok, err)
		}
	})
}

func TestValuesExpire(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		// "long" shows that values live until their ttl without asserting
		// anything about how fast a short-lived key was read back.
		for _, err := range []error{
			b.store.Set(ctx, "short", "v", 500*time.Millisecond),
			b.store.Set(ctx, "long", "v", time.Hour),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := b.store.SetNX(ctx, "short-nx", "v", 500*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		b.advance(t, 600*time.Millisecond)
		if v, ok, _ := b.store.Get(ctx, "long"); !ok || v != "v" {
			t.Fatalf("value gone before its ttl")
		}
		if _, ok, _ := b.store.Get(ctx, "short"); ok {
			t.Fatalf("value outlived its ttl")
		}
		if ok, err := b.store.SetNX(ctx, "short-nx", "w", time.Minute); err != nil || !ok {
			t.Fatalf("setnx over an expired key: %v %v", ok, err)
		}
	})
}

func TestRedisPrefixesIsolate(t *testing.T) {
	if os.Getenv(testenv.RedisURLEnv) == "" {
		t.Skip("needs " + testenv.RedisURLEnv)
	}
	ctx := context.Background()
	a, b := newRedis(t, testenv.NewRedisPrefix(t)), newRedis(t, testenv.NewRedisPrefix(t))
	if err := a.Set(ctx, "k", "from a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.Get(ctx, "k"); ok {
		t.Fatalf("prefix b sees prefix a's key")
	}
	if ok, _ := b.SetNX(ctx, "k", "from b", time.Minute); !ok {
		t.Fatalf("prefix b blocked by prefix a")
	}
}

func TestMemorySweepsDeadEntries(t *testing.T) {
	m := kv.NewMemory()
	now := time.Now()
	m.SetClock(func() time.Time { return now })
	ctx := context.Background()
	for i := range 5000 {
		_ = m.Set(ctx, "k"+string(rune(i)), "v", time.Second)
		_, _ = m.Allow(ctx, "ip"+string(rune(i)), kv.Limit{Count: 10, Period: time.Second})
	}
	now = now.Add(time.Minute)
	for range 1100 {
		_, _, _ = m.Get(ctx, "nothing")
		_ = m.Set(ctx, "live", "v", time.Hour)
	}
	if n := m.Len(); n > 10 {
		t.Fatalf("%d entries left after a sweep, want only the live ones", n)
	}
}

func TestRedisClientMessagesGoToSlog(t *testing.T) {
	var logs bytes.Buffer
	kv.LogRedisTo(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(logging.Enable) // back to go-redis's own stderr logger

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	if r, err := kv.OpenRedis("redis://"+addr+"/0", "x:"); err == nil {
		_ = r.Close()
		t.Fatal("connected to a closed port")
	}
	var entry map[string]any
	line, _, _ := bytes.Cut(logs.Bytes(), []byte("\n"))
	if err := json.Unmarshal(line, &entry); err != nil {
		t.Fatalf("go-redis did not log JSON through slog: %q (%v)", logs.String(), err)
	}
	detail, _ := entry["detail"].(string)
	if entry["level"] != "WARN" || !strings.Contains(detail, "failed to dial") || !strings.Contains(detail, addr) {
		t.Fatalf("log entry %v, want a warning about dialling %s", entry, addr)
	}
}

// TestNoticesReachEveryReplicaOfTheirInstance: a notice reaches every
// listener of its topic under the same prefix, each replica its own
// connection, and no listener of another topic or another instance
// sharing the Redis server. Listen also forgets once on subscribing, since
// what was published before is lost to it.
func TestNoticesReachEveryReplicaOfTheirInstance(t *testing.T) {
	if os.Getenv(testenv.RedisURLEnv) == "" {
		t.Skip("notices travel through Redis; set " + testenv.RedisURLEnv)
	}
	t.Parallel()
	prefix := testenv.NewRedisPrefix(t)
	sender, replica, neighbour := newRedis(t, prefix), newRedis(t, prefix), newRedis(t, testenv.NewRedisPrefix(t))
	ctx, cancel := context.WithCancel(context.Background())
	heard, broke := make(chan string, 16), make(chan error, 4)
	done := []<-chan struct{}{
		listen(ctx, sender, "tokens", "sender", heard, broke),
		listen(ctx, replica, "tokens", "replica", heard, broke),
		listen(ctx, replica, "users", "replica's other topic", heard, broke),
		listen(ctx, neighbour, "tokens", "neighbour", heard, broke),
	}
	subscribed := map[string]bool{}
	for len(subscribed) < 4 {
		subscribed[receive(t, heard)] = true
	}

	if err := sender.Notify(ctx, "tokens", "7 9"); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{receive(t, heard): true, receive(t, heard): true}
	if !got["sender: 7 9"] || !got["replica: 7 9"] {
		t.Fatalf("a notice on tokens about 7 9 reached %v, want the sender and its replica, told what about", got)
	}
	select {
	case name := <-heard:
		t.Fatalf("a notice on tokens also reached %s", name)
	case <-time.After(200 * time.Millisecond):
	}

	cancel()
	for _, stopped := range done {
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			t.Fatal("Listen did not return after its context ended")
		}
	}
	if len(broke) > 0 {
		t.Fatalf("a subscription broke: %v", <-broke)
	}
}

func receive(t *testing.T, heard <-chan string) string {
	t.Helper()
	return within(t, heard, "notice")
}

// within is the next value from ch, failing the test after 5 s without.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s within 5 s", what)
		var zero T
		return zero
	}
}

// TestListenForgetsAndSubscribesAgainAfterTheConnectionBreaks: notices
// published while a replica's subscription was down are lost to it, so it
// forgets when the connection breaks, says so once, and hears notices
// again once it has subscribed anew.
func TestListenForgetsAndSubscribesAgainAfterTheConnectionBreaks(t *testing.T) {
	if os.Getenv(testenv.RedisURLEnv) == "" {
		t.Skip("notices travel through Redis; set " + testenv.RedisURLEnv)
	}
	t.Parallel()
	prefix := testenv.NewRedisPrefix(t)
	opts := redisOptions(t)
	opts.ClientName = strings.TrimSuffix(strings.ReplaceAll(prefix, ":", "-"), "-")
	replica, sender := kv.NewRedis(newClient(t, opts), prefix), newRedis(t, prefix)
	heard, broke := listenFor(t, replica, "tokens")
	receive(t, heard)

	killSubscription(t, opts.ClientName)
	receive(t, heard)
	if err := within(t, broke, "report"); err == nil {
		t.Fatal("the broken subscription was reported with no error")
	}
	testenv.WaitForListeners(t, prefix, 1)
	heardOnlyByNotices(t, heard, sender)
}

// TestListenSubscribesAgainAfterARefusal: Redis refusing the subscription
// (an ACL without the channel) is not waited on for ever: Listen forgets,
// tries again, and hears notices once the channel is allowed.
func TestListenSubscribesAgainAfterARefusal(t *testing.T) {
	if os.Getenv(testenv.RedisURLEnv) == "" {
		t.Skip("notices travel through Redis; set " + testenv.RedisURLEnv)
	}
	t.Parallel()
	prefix := testenv.NewRedisPrefix(t)
	admin := newRedis(t, testenv.NewRedisPrefix(t)).Client()
	ctx := context.Background()
	user := strings.TrimSuffix(strings.ReplaceAll(prefix, ":", "-"), "-")
	// With a password: go-redis sends no AUTH without one, and the
	// connection would be the default user's.
	if err := admin.Do(ctx, "ACL", "SETUSER", user, "on", ">"+user, "~*", "resetchannels", "+@all").Err(); err != nil {
		t.Skipf("this Redis has no ACLs to refuse a channel with: %v", err)
	}
	t.Cleanup(func() { admin.Do(context.Background(), "ACL", "DELUSER", user) })
	opts := redisOptions(t)
	opts.Username, opts.Password = user, user
	replica, sender := kv.NewRedis(newClient(t, opts), prefix), newRedis(t, prefix)
	heard, _ := listenFor(t, replica, "tokens")
	receive(t, heard) // the refusal

	if err := admin.Do(ctx, "ACL", "SETUSER", user, "allchannels").Err(); err != nil {
		t.Fatal(err)
	}
	testenv.WaitForListeners(t, prefix, 1)
	heardOnlyByNotices(t, heard, sender)
}

func redisOptions(t *testing.T) *redis.Options {
	t.Helper()
	opts, err := redis.ParseURL(os.Getenv(testenv.RedisURLEnv))
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

func newClient(t *testing.T, opts *redis.Options) *redis.Client {
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// listen runs r.Listen on topic until ctx ends, sending to heard name on
// every forget of everything, "name: about" on a forget of about, and
// each report to broke; the channel it returns closes when Listen has
// returned.
func listen(ctx context.Context, r *kv.Redis, topic, name string, heard chan<- string, broke chan<- error) <-chan struct{} {
	done := make(chan struct{})
	forget := func(about string) {
		if about != "" {
			heard <- name + ": " + about
			return
		}
		heard <- name
	}
	go func() {
		defer close(done)
		r.Listen(ctx, topic, forget, func(err error) { broke <- err })
	}()
	return done
}

// listenFor starts r listening to topic until the test ends, and returns
// where its forgets and reports arrive.
func listenFor(t *testing.T, r *kv.Redis, topic string) (<-chan string, <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	heard, broke := make(chan string, 64), make(chan error, 8)
	done := listen(ctx, r, topic, topic, heard, broke)
	t.Cleanup(func() { cancel(); <-done })
	return heard, broke
}

// heardOnlyByNotices waits until the listener has been quiet for a while
// (the forget on subscribing has come), then wants a forget for a notice.
func heardOnlyByNotices(t *testing.T, heard <-chan string, sender *kv.Redis) {
	t.Helper()
	for quiet := false; !quiet; {
		select {
		case <-heard:
		case <-time.After(300 * time.Millisecond):
			quiet = true
		}
	}
	if err := sender.Notify(context.Background(), "tokens", ""); err != nil {
		t.Fatal(err)
	}
	receive(t, heard)
}

// killSubscription closes, on the Redis server, the subscribed connection
// of the client with the given name, and no other test's.
func killSubscription(t *testing.T, name string) {
	t.Helper()
	admin := newRedis(t, testenv.NewRedisPrefix(t)).Client()
	ctx := context.Background()
	list, err := admin.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name="+name+" ") || !strings.Contains(line, " sub=1 ") {
			continue
		}
		id := strings.TrimPrefix(strings.Fields(line)[0], "id=")
		if err := admin.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("no subscribed connection named %s in CLIENT LIST", name)
}
