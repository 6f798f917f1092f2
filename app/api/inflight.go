package api

import (
	"net/http"
	"sync/atomic"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/semaphore"

	"github.com/pecan-social/pecan/app/errs"
)

// limitInFlight works on at most maxInFlight requests at once; the others
// wait, in order, until one finishes or their client goes away. A server
// past its capacity otherwise takes every request it is sent at once,
// and holds the memory of all their half-built answers together: the
// burst costs memory without being served any sooner. Past maxWaiting
// waiting requests, the next is turned away with 503 and Retry-After.
// Health checks and metrics scrapes never wait: a busy server is alive.
func limitInFlight(maxInFlight, maxWaiting int) echo.MiddlewareFunc {
	slots := semaphore.NewWeighted(int64(maxInFlight))
	var waiting atomic.Int64
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			switch c.Path() {
			case "/healthz", "/readyz", "/metrics":
				return next(c)
			}
			if !slots.TryAcquire(1) {
				if waiting.Add(1) > int64(maxWaiting) {
					waiting.Add(-1)
					c.Response().Header().Set("Retry-After", "1")
					return &errs.Error{Status: http.StatusServiceUnavailable, Code: "server_busy", Message: "the server is busy; try again in a second"}
				}
				err := slots.Acquire(c.Request().Context(), 1)
				waiting.Add(-1)
				if err != nil {
					return err // the client went away while it waited
				}
			}
			defer slots.Release(1)
			return next(c)
		}
	}
}
