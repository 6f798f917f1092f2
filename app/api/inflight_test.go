package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestInFlightLimit sends many requests at once to a handler that holds
// each until released: no more than the limit run together, the next ones
// wait and are all served in the end, and past the waiting room the rest
// get a pnut 503 with Retry-After at once. Health checks pass the queue.
func TestInFlightLimit(t *testing.T) {
	const limit, room, sent = 3, 5, 20
	var running, most atomic.Int64
	release := make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.Use(limitInFlight(limit, room))
	e.GET("/work", func(c echo.Context) error {
		now := running.Add(1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		<-release
		running.Add(-1)
		return c.String(http.StatusOK, "done")
	})
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	srv := httptest.NewServer(e)
	defer srv.Close()
	defer free() // before Close, which waits for the held handlers

	statuses := make(chan *http.Response, sent)
	var wg sync.WaitGroup
	for range sent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Get(srv.URL + "/work")
			if err != nil {
				t.Error(err)
				return
			}
			statuses <- res
		}()
	}
	// The ones turned away answer at once; the others hold.
	busy := 0
	for busy < sent-limit-room {
		res := <-statuses
		var body struct {
			Meta struct {
				Code      int    `json:"code"`
				ErrorCode string `json:"error_code"`
			} `json:"meta"`
		}
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || body.Meta.ErrorCode != "server_busy" {
			t.Fatalf("turned-away request: %d %+v Retry-After %q", res.StatusCode, body.Meta, res.Header.Get("Retry-After"))
		}
		busy++
	}
	if res, err := http.Get(srv.URL + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("health check while busy: %v %v", res, err)
	}
	free()
	wg.Wait()
	close(statuses)
	served := 0
	for res := range statuses {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			served++
		}
	}
	if served != limit+room || most.Load() != limit {
		t.Errorf("served %d (want %d), at most %d at once (want %d)", served, limit+room, most.Load(), limit)
	}
}
