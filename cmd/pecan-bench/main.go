// Command pecan-bench measures a Pecan server: it starts one on a fresh
// database (or targets a running one), seeds users, follows and posts,
// drives named scenarios with vegeta at a fixed rate and at maximum
// throughput, and reports requests per second, latency percentiles,
// errors, the server's memory and CPU, start-up time, fanout time, and a
// minimal baseline handler's throughput on the same queries.
//
//	go run ./cmd/pecan-bench                       # everything, embedded default (SQLite)
//	go run ./cmd/pecan-bench --users 100 --posts 5000 --duration 5s global create
//	go run ./cmd/pecan-bench --database-url postgres://… --redis-url redis://… --json
//	go run ./cmd/pecan-bench --target http://127.0.0.1:8080 --tokens tokens.txt global personal
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	DatabaseURL, RedisURL string
	Target, TokensFile    string
	ServerPID             int
	PecanBin              string
	ServerLogLevel        string
	ServerEnv             []string // extra KEY=VALUE settings of the server under test
	DBConns               int

	Users, Posts, Follows, Active  int
	FanoutFollowers, FanoutServers int
	FanoutRuns                     int
	Seed                           uint64

	Rate        int
	Rates       map[string]int
	Workers     int
	RateWorkers int
	Duration    time.Duration
	WarmUp      time.Duration
	Timeout     time.Duration
	Modes       []string

	Baseline  bool
	RSATime   time.Duration
	Scenarios []string
	JSON      bool
	OutDir    string
	Keep      bool
}

func defaultOptions() options {
	return options{
		ServerLogLevel: "info", DBConns: 20,
		Users: 1000, Posts: 200_000, Follows: 100, Active: maxReaders,
		FanoutFollowers: 1000, FanoutServers: 200, FanoutRuns: 3, Seed: 1,
		Rate: 1000, Rates: map[string]int{}, Workers: 16, RateWorkers: 500, Duration: 10 * time.Second, WarmUp: time.Second, Timeout: 10 * time.Second,
		Modes: []string{"rate", "max"}, Baseline: true, RSATime: 2 * time.Second, Scenarios: scenarioNames,
	}
}

func parseFlags(args []string) (options, error) {
	o := defaultOptions()
	fs := flag.NewFlagSet("pecan-bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: pecan-bench [flags] [scenario ...]\nscenarios: %s (default: all)\n\n", strings.Join(scenarioNames, " "))
		fs.PrintDefaults()
	}
	fs.StringVar(&o.DatabaseURL, "database-url", "", "PostgreSQL URL; a fresh schema is made in it (default: a SQLite file in a temp dir)")
	fs.StringVar(&o.RedisURL, "redis-url", "", "Redis URL for the server, under a fresh key prefix (default: in-process state)")
	fs.StringVar(&o.Target, "target", "", "URL of a running server to measure instead of starting one; needs --tokens")
	fs.StringVar(&o.TokensFile, "tokens", "", "with --target: file of access tokens (scopes basic,stream,write_post), one a line")
	fs.IntVar(&o.ServerPID, "server-pid", 0, "with --target: the server's process id on this machine, to report its RSS and CPU")
	fs.StringVar(&o.PecanBin, "pecan-bin", "", "pecan binary to run (default: build ./cmd/pecan)")
	fs.StringVar(&o.ServerLogLevel, "server-log-level", o.ServerLogLevel, "log.level of the server under test (its log goes to a file)")
	fs.Func("server-env", "extra setting of the server under test as PECAN_KEY=VALUE, e.g. PECAN_ADMIN_LISTEN=127.0.0.1:6060 to profile it, or a Go runtime variable such as GOMEMLIMIT=100MiB (repeatable)", func(v string) error {
		name, _, ok := strings.Cut(v, "=")
		if !ok || !strings.HasPrefix(name, "PECAN_") && name != "GOMEMLIMIT" && name != "GOGC" && name != "GOMAXPROCS" {
			return fmt.Errorf("want PECAN_KEY=VALUE, GOMEMLIMIT=…, GOGC=… or GOMAXPROCS=…, got %q", v)
		}
		o.ServerEnv = append(o.ServerEnv, v)
		return nil
	})
	fs.IntVar(&o.DBConns, "db-conns", o.DBConns, "database connections of the server (database.max_open_conns) and of the baseline")
	fs.IntVar(&o.Users, "users", o.Users, "local users to seed")
	fs.IntVar(&o.Posts, "posts", o.Posts, "posts to seed")
	fs.IntVar(&o.Follows, "follows", o.Follows, "accounts each user follows")
	fs.IntVar(&o.Active, "active", o.Active, "users with tokens who read and write in the scenarios")
	fs.IntVar(&o.FanoutFollowers, "fanout-followers", o.FanoutFollowers, "remote followers of the fanout author")
	fs.IntVar(&o.FanoutServers, "fanout-servers", o.FanoutServers, "remote servers they live on (loopback addresses 127.0.0.2 and up)")
	fs.IntVar(&o.FanoutRuns, "fanout-runs", o.FanoutRuns, "posts timed per fanout variant")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed of the seeded data")
	fs.IntVar(&o.Rate, "rate", o.Rate, "requests per second of the fixed-rate runs")
	rates := fs.String("rates", "", "per-scenario rates overriding --rate, e.g. create=300,mixed=500")
	fs.IntVar(&o.Workers, "workers", o.Workers, "concurrent clients of the maximum-throughput runs (a closed loop)")
	fs.IntVar(&o.RateWorkers, "rate-workers", o.RateWorkers, "most requests in flight in the fixed-rate runs; past it the rate is not met (see sent/s)")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "length of each run")
	fs.DurationVar(&o.WarmUp, "warmup", o.WarmUp, "unmeasured load before each run (0: none)")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "request timeout; a timeout counts as an error")
	modes := fs.String("modes", strings.Join(o.Modes, ","), "runs per scenario: rate (fixed rate), max (maximum throughput)")
	noBaseline := fs.Bool("no-baseline", false, "skip the baseline handler runs")
	fs.BoolVar(&o.JSON, "json", false, "print the report as JSON instead of a table")
	fs.StringVar(&o.OutDir, "out", "", "directory to write report.txt and report.json into as well")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temp dir (database, server log, tokens.txt) and the PostgreSQL schema")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.Baseline = !*noBaseline
	var err error
	if o.Rates, err = parseRates(*rates); err != nil {
		return o, err
	}
	o.Modes = strings.Split(*modes, ",")
	for _, m := range o.Modes {
		if m != "rate" && m != "max" {
			return o, fmt.Errorf("--modes: unknown mode %q (want rate, max)", m)
		}
	}
	if fs.NArg() > 0 {
		o.Scenarios = nil
		for _, name := range fs.Args() {
			if !slices.Contains(scenarioNames, name) {
				return o, fmt.Errorf("unknown scenario %q (have %s)", name, strings.Join(scenarioNames, ", "))
			}
			o.Scenarios = append(o.Scenarios, name)
		}
	}
	if o.Target != "" && o.TokensFile == "" {
		return o, errors.New("--target needs --tokens")
	}
	return o, nil
}

func parseRates(s string) (map[string]int, error) {
	out := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(value)
		if !ok || err != nil || n < 1 || !slices.Contains(scenarioNames, name) {
			return nil, fmt.Errorf("--rates: want scenario=requests_per_s, got %q", part)
		}
		out[name] = n
	}
	return out, nil
}

func (o options) rateFor(scenario string) int {
	if r, ok := o.Rates[scenario]; ok {
		return r
	}
	return o.Rate
}

func (o options) wants(scenario string) bool { return slices.Contains(o.Scenarios, scenario) }

func main() {
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pecan-bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	rep, err := run(ctx, o, logf)
	if rep != nil {
		if werr := writeReport(rep, o); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pecan-bench:", err)
		os.Exit(1)
	}
}

// writeReport prints the report and writes it into --out.
func writeReport(rep *report, o options) error {
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if o.JSON {
		fmt.Println(string(js))
	} else {
		fmt.Print(rep.text())
	}
	if o.OutDir == "" {
		return nil
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return err
	}
	return errors.Join(
		os.WriteFile(filepath.Join(o.OutDir, "report.json"), append(js, '\n'), 0o644),
		os.WriteFile(filepath.Join(o.OutDir, "report.txt"), []byte(rep.text()), 0o644))
}
