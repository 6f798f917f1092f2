package api

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/kv"
)

// rateClass names a bucket; each has its own limit from config.
type rateClass string

const (
	classRead          rateClass = "read"
	classWrite         rateClass = "write"
	classTokenCreation rateClass = "token"
	classOAuth         rateClass = "oauth"
)

// classFor picks the bucket of a request: the route's own class when it
// declares one, else reads for safe methods and writes for the rest. Echo
// has matched the route before middleware runs, so c.Path() is known here.
func (s *server) classFor(c echo.Context) rateClass {
	if class, ok := s.rateClasses[c.Request().Method+" "+c.Path()]; ok {
		return class
	}
	switch c.Request().Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return classRead
	default:
		return classWrite
	}
}

// limitFor returns the limit and the key of the bucket this request draws
// from: per token when signed in, per client IP otherwise. A token that
// failed to authenticate counts as no token: it proves nothing about the
// caller, so a guesser shares its IP's anonymous bucket instead of getting
// a fresh one per guess or a failed-auth allowance on top of it.
func (s *server) limitFor(c echo.Context) (kv.Limit, string) {
	class := s.classFor(c)
	tok := caller(c)
	who := "ip:" + c.RealIP()
	if tok != nil {
		who = "token:" + strconv.FormatInt(tok.ID, 10)
	}
	limits := s.cfg.RateLimits
	var rate = limits.Writes
	switch {
	case class == classTokenCreation:
		rate = limits.TokenCreation
		if tok != nil && !tok.IsAppToken() {
			who = "user:" + strconv.FormatInt(tok.UserID, 10)
		}
	case class == classOAuth:
		rate = limits.OAuth
	case class == classRead && tok != nil:
		rate = limits.AuthenticatedReads
	case class == classRead:
		rate = limits.UnauthenticatedReads
	}
	return kv.Limit{Count: rate.Count, Period: rate.Period}, "ratelimit:" + string(class) + ":" + who
}

// rateLimit counts the request against its bucket and sets the
// X-RateLimit-* headers; over the limit it answers 429 with Retry-After.
func (s *server) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.cfg.RateLimits.Enabled || c.Request().Method == http.MethodOptions {
			return next(c)
		}
		limit, key := s.limitFor(c)
		res, err := s.limiter.Allow(c.Request().Context(), key, limit)
		if err != nil {
			// A broken limiter store should not take the API down with it.
			s.logger.WarnContext(c.Request().Context(), "rate limiter unavailable", "error", err.Error())
			return next(c)
		}
		h := c.Response().Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(res.Limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(res.Remaining))
		h.Set("X-RateLimit-Reset", strconv.Itoa(ceilSeconds(res.ResetAfter)))
		if !res.Allowed {
			retry := ceilSeconds(res.RetryAfter)
			h.Set("Retry-After", strconv.Itoa(retry))
			return &errs.Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
				Message: "too many requests; retry in " + strconv.Itoa(retry) + " seconds"}
		}
		return next(c)
	}
}

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}
