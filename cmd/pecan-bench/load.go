package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// request is one request of a scenario, relative to the server's URL.
type request struct {
	Method string
	Path   string // with the query
	Token  string
	Body   []byte
}

// requestSource hands out a scenario's requests; it is called from many
// goroutines at once.
type requestSource func(seq uint64) request

// load is how hard to drive a run: at a fixed rate, or as fast as Workers
// clients each waiting for its answer before sending the next request.
type load struct {
	Mode     string // "rate" or "max"
	Rate     int
	Workers  int // "max": the clients; "rate": the most requests in flight
	Duration time.Duration
	Timeout  time.Duration
}

// runResult is what one run measured.
type runResult struct {
	Scenario      string   `json:"scenario"`
	Mode          string   `json:"mode"`
	Server        string   `json:"server"` // "pecan" or "baseline"
	TargetRate    int      `json:"target_rate,omitempty"`
	Workers       int      `json:"workers,omitempty"`
	DurationS     float64  `json:"duration_s"`
	Requests      uint64   `json:"requests"`
	RPS           float64  `json:"requests_per_s"` // successful (2xx) answers per second
	SentPerS      float64  `json:"sent_per_s"`     // requests sent per second, answered or not
	P50MS         float64  `json:"p50_ms"`
	P90MS         float64  `json:"p90_ms"`
	P99MS         float64  `json:"p99_ms"`
	MaxMS         float64  `json:"max_ms"`
	Errors        uint64   `json:"errors"`
	ErrorSamples  []string `json:"error_samples,omitempty"`
	BytesPerReply float64  `json:"bytes_per_response"`
	MaxRSSMB      float64  `json:"server_max_rss_mb,omitempty"`
	EndRSSMB      float64  `json:"server_end_rss_mb,omitempty"`
	CPUPer1k      float64  `json:"server_cpu_s_per_1k_requests,omitempty"`
	RatioToBase   float64  `json:"pecan_to_baseline_throughput,omitempty"`
}

// attack drives base with the requests of next under l, and measures
// latency, errors and, when pid is a local process, its RSS and CPU.
func attack(ctx context.Context, base string, next requestSource, l load, pid int) runResult {
	workers := uint64(max(1, l.Workers))
	pacer := vegeta.Pacer(vegeta.ConstantPacer{}) // no pacing: as fast as the workers go
	maxWorkers := workers
	if l.Mode == "rate" {
		pacer = vegeta.ConstantPacer{Freq: l.Rate, Per: time.Second}
		maxWorkers = max(workers, 10)
		workers = min(maxWorkers, uint64(max(10, l.Rate/50)))
	}
	// A client of its own, so that its connections close when the run
	// ends: left open, each run's idle connections would stay on the
	// server until its idle timeout and count in the next runs' memory.
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: l.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: int(maxWorkers),
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: l.Timeout}
	attacker := vegeta.NewAttacker(vegeta.Client(client), vegeta.Workers(workers), vegeta.MaxWorkers(maxWorkers),
		vegeta.Redirects(vegeta.NoFollow))
	var seq atomic.Uint64
	targeter := func(t *vegeta.Target) error {
		r := next(seq.Add(1) - 1)
		*t = vegeta.Target{Method: r.Method, URL: base + r.Path, Body: r.Body, Header: http.Header{}}
		if r.Token != "" {
			t.Header.Set("Authorization", "Bearer "+r.Token)
		}
		if r.Body != nil {
			t.Header.Set("Content-Type", "application/json")
		}
		return nil
	}
	stop := context.AfterFunc(ctx, func() { attacker.Stop() })
	defer stop()

	usage := sample(pid)
	var m vegeta.Metrics
	errs := errorLog{}
	for res := range attacker.Attack(targeter, pacer, l.Duration, "") {
		m.Add(res)
		errs.add(res)
	}
	m.Close()
	used := usage.finish()

	out := runResult{
		Mode: l.Mode, Requests: m.Requests, Errors: errs.count, ErrorSamples: errs.samples,
		P50MS: ms(m.Latencies.P50), P90MS: ms(m.Latencies.P90), P99MS: ms(m.Latencies.P99), MaxMS: ms(m.Latencies.Max),
		BytesPerReply: m.BytesIn.Mean,
	}
	out.Workers = l.Workers
	if l.Mode == "rate" {
		out.TargetRate = l.Rate
	}
	if span := (m.Duration + m.Wait).Seconds(); span > 0 {
		out.DurationS, out.RPS, out.SentPerS = span, float64(m.Requests-errs.count)/span, float64(m.Requests)/span
	}
	if pid != 0 {
		out.MaxRSSMB, out.EndRSSMB = mb(used.MaxRSS), mb(used.EndRSS)
		if m.Requests > 0 {
			out.CPUPer1k = used.CPU.Seconds() / float64(m.Requests) * 1000
		}
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mb(b int64) float64         { return float64(b) / (1 << 20) }

// errorLog counts answers that are not 2xx, and transport errors, and
// keeps the first few distinct ones to show.
type errorLog struct {
	count   uint64
	samples []string
}

func (e *errorLog) add(r *vegeta.Result) {
	if r.Code >= 200 && r.Code < 300 {
		return
	}
	e.count++
	if len(e.samples) >= 5 {
		return
	}
	msg := r.Error
	if r.Code != 0 {
		body := strings.TrimSpace(string(r.Body))
		if len(body) > 200 {
			body = body[:200]
		}
		msg = fmt.Sprintf("%s %s: %d %s", r.Method, r.URL, r.Code, body)
	}
	for _, s := range e.samples {
		if s == msg {
			return
		}
	}
	e.samples = append(e.samples, msg)
}
