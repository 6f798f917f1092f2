package delivery

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Backoff spaces retries: Base after the first failed attempt, doubling
// after each further one up to Max, plus up to a quarter more at random so
// deliveries that failed together do not all retry together.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
}

// Delay is the wait before the next attempt after attempt number n (1 for
// the first) failed, before jitter.
func (b Backoff) Delay(n int) time.Duration {
	d := b.Base
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Next is when to try again after attempt n failed at now. A server that
// said when to come back (Retry-After on 429 or 503) is believed if that is
// later, up to Max.
func (b Backoff) Next(now time.Time, n int, retryAfter time.Duration) time.Time {
	d := b.Delay(n)
	d += time.Duration(rand.Int64N(int64(d)/4 + 1))
	if retryAfter > d {
		d = min(retryAfter, b.Max)
	}
	return now.Add(d)
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
