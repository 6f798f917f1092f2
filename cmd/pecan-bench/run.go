package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/database"
)

// run measures everything the options ask for. A failed scenario ends the
// run with an error, but the report of what ran is still returned.
func run(ctx context.Context, o options, logf func(string, ...any)) (*report, error) {
	rep := &report{StartedAt: time.Now().UTC().Format(time.RFC3339)}
	logf("measuring RSA signatures on this machine")
	var err error
	if rep.Machine, err = measureMachine(o.RSATime); err != nil {
		return nil, err
	}
	if o.Target != "" {
		return rep, runAgainstTarget(ctx, o, rep, logf)
	}
	return rep, runOwnServer(ctx, o, rep, logf)
}

// runOwnServer seeds a fresh database, starts Pecan on it and measures.
func runOwnServer(ctx context.Context, o options, rep *report, logf func(string, ...any)) error {
	b, err := newBackend(ctx, o)
	if err != nil {
		return err
	}
	if o.Keep {
		logf("keeping %s (and schema %q)", b.Dir, b.schema)
	} else {
		defer func() {
			if err := b.remove(); err != nil {
				logf("cleaning up: %v", err)
			}
		}()
	}
	rep.Backend = b.String()
	rep.Scale = scale{Users: o.Users, Posts: o.Posts, Follows: min(o.Follows, o.Users-1),
		FanoutFollowers: o.FanoutFollowers, FanoutServers: o.FanoutServers}

	recv, err := startReceiver(o.FanoutServers)
	if err != nil {
		return err
	}
	defer recv.close()
	bin := o.PecanBin
	if bin == "" {
		logf("building ./cmd/pecan")
		if bin, err = buildPecan(ctx, b.Dir); err != nil {
			return err
		}
	}
	data, err := migrateAndSeed(ctx, b, o, recv.hosts, logf)
	if err != nil {
		return err
	}
	rep.SeedSeconds, rep.SeedRows = data.Took.Seconds(), data.Rows

	srv, err := startTwice(ctx, b, o, bin, rep, logf)
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.stop(); err != nil {
			logf("stopping the server: %v", err)
		}
	}()
	site := convert.Site{Base: srv.url}
	for name, pub := range data.PublicKeys {
		if err := recv.trust(site.KeyID(name), pub); err != nil {
			return err
		}
	}
	if o.Keep {
		writeTokens(filepath.Join(b.Dir, "tokens.txt"), data.Active, logf)
	}
	readers := make([]reader, len(data.Active))
	viewers := map[string]int64{}
	for i, a := range data.Active {
		readers[i] = reader(a)
		viewers[a.Token] = a.ID
	}
	logf("discovering pages")
	w, err := discover(ctx, srv.url, readers, data.ThreadRoots, data.TopTags)
	if err != nil {
		return err
	}
	var base *baseline
	if o.Baseline && (o.wants("global") || o.wants("personal")) {
		if base, err = startBaseline(ctx, b.DatabaseURL, o.DBConns, viewers, srv.url); err != nil {
			return err
		}
		defer base.close()
		if err := sameAnswers(ctx, w, srv.url, base.URL); err != nil {
			return err
		}
	}
	m := measurement{o: o, rep: rep, w: w, url: srv.url, pid: srv.pid(), base: base, logf: logf}
	if err := m.scenarios(ctx); err != nil {
		return err
	}
	if o.wants("fanout") {
		c := &apiClient{base: srv.url}
		for _, v := range []struct {
			name       string
			author     seedAuthor
			deliveries int
		}{
			{"shared inboxes", data.FanoutShared, o.FanoutServers},
			{"personal inboxes", data.FanoutInboxes, o.FanoutFollowers},
		} {
			logf("fanout: %s, %d deliveries", v.name, v.deliveries)
			res := fanout(ctx, c, recv, reader(v.author), v.name, o.FanoutFollowers, v.deliveries, o.FanoutRuns, srv.pid())
			rep.Fanout = append(rep.Fanout, res)
			if res.Error != "" {
				return fmt.Errorf("fanout (%s): %s", v.name, res.Error)
			}
		}
	}
	return nil
}

// migrateAndSeed applies the migrations the way `pecan serve` does, then
// seeds, so the server's own start finds them applied.
func migrateAndSeed(ctx context.Context, b *backend, o options, hosts []string, logf func(string, ...any)) (*seeded, error) {
	db, err := database.Open(b.DatabaseURL, 4)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.MigrateUp(ctx); err != nil {
		return nil, err
	}
	logf("seeding %d users, %d posts, %d follows each, %d remote followers on %d servers",
		o.Users, o.Posts, o.Follows, o.FanoutFollowers, len(hosts))
	return seedDatabase(ctx, db, seedPlan{
		Users: o.Users, Posts: o.Posts, Follows: o.Follows, Active: o.Active,
		FanoutFollowers: o.FanoutFollowers, Servers: hosts, Seed: o.Seed,
	}, logf)
}

// startTwice starts the server, stops it and starts it again, timing both
// starts to a ready /readyz with the migrations already applied, then
// reads the idle RSS.
func startTwice(ctx context.Context, b *backend, o options, bin string, rep *report, logf func(string, ...any)) (*pecanServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	srv := &pecanServer{
		bin: bin, env: append(serverEnv(b, port, o.ServerLogLevel, o.DBConns), o.ServerEnv...),
		url: "http://127.0.0.1:" + strconv.Itoa(port), logPath: filepath.Join(b.Dir, "server.log"),
	}
	for i := range 2 {
		took, err := srv.start(ctx)
		if err != nil {
			return nil, err
		}
		logf("server ready in %s (start %d)", took.Round(time.Millisecond), i+1)
		rep.StartupMS = append(rep.StartupMS, ms(took))
		if i == 0 {
			if err := srv.stop(); err != nil {
				return nil, err
			}
		}
	}
	time.Sleep(time.Second) // let start-up garbage be collected
	if st, err := readProc(srv.pid()); err == nil {
		rep.IdleRSSMB = mb(st.RSSBytes)
	}
	return srv, nil
}

// runAgainstTarget measures a server someone else started, through its
// API only: no seeding, no baseline, no fanout.
func runAgainstTarget(ctx context.Context, o options, rep *report, logf func(string, ...any)) error {
	rep.Backend, rep.Target = "external", o.Target
	toks, err := readTokens(o.TokensFile)
	if err != nil {
		return err
	}
	c := &apiClient{base: strings.TrimRight(o.Target, "/")}
	var readers []reader
	for _, t := range toks[:min(len(toks), o.Active)] {
		r, err := c.whoAmI(ctx, t)
		if err != nil {
			return fmt.Errorf("--tokens: %w", err)
		}
		readers = append(readers, r)
	}
	w, err := discover(ctx, c.base, readers, nil, nil)
	if err != nil {
		return err
	}
	if o.ServerPID != 0 {
		if st, err := readProc(o.ServerPID); err == nil {
			rep.IdleRSSMB = mb(st.RSSBytes)
		}
	}
	if o.wants("fanout") {
		rep.Skipped = append(rep.Skipped, "fanout: "+errNoFanout.Error())
	}
	m := measurement{o: o, rep: rep, w: w, url: c.base, pid: o.ServerPID, logf: logf}
	return m.scenarios(ctx)
}

func readTokens(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--tokens: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" && !strings.HasPrefix(t, "#") {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--tokens: no tokens in the file")
	}
	return out, sc.Err()
}

func writeTokens(path string, authors []seedAuthor, logf func(string, ...any)) {
	var sb strings.Builder
	for _, a := range authors {
		sb.WriteString(a.Token + "\n")
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		logf("writing %s: %v", path, err)
	}
}

// measurement runs the load scenarios against one server.
type measurement struct {
	o    options
	rep  *report
	w    *workload
	url  string
	pid  int
	base *baseline
	logf func(string, ...any)
}

func (m *measurement) scenarios(ctx context.Context) error {
	for _, name := range scenarioNames {
		if name == "fanout" || !m.o.wants(name) {
			continue
		}
		for _, mode := range m.o.Modes {
			l := load{Mode: mode, Rate: m.o.rateFor(name), Workers: m.o.Workers, Duration: m.o.Duration, Timeout: m.o.Timeout}
			if mode == "rate" {
				l.Workers = m.o.RateWorkers
			}
			m.logf("%s: %s", name, describe(l))
			m.warmUp(ctx, m.url, name, l)
			res := attack(ctx, m.url, m.w.source(name), l, m.pid)
			res.Scenario, res.Server = name, "pecan"
			var baseRes *runResult
			if m.base != nil && slices.Contains(baselineScenarios, name) {
				m.logf("%s: baseline, %s", name, describe(l))
				m.warmUp(ctx, m.base.URL, name, l)
				b := attack(ctx, m.base.URL, m.w.source(name), l, 0)
				b.Scenario, b.Server = name, "baseline"
				if b.RPS > 0 {
					res.RatioToBase = res.RPS / b.RPS
				}
				baseRes = &b
			}
			m.rep.Runs = append(m.rep.Runs, res)
			if baseRes != nil {
				m.rep.Runs = append(m.rep.Runs, *baseRes)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// warmUp sends a scenario's load for --warmup, unmeasured, so each run
// starts with warm connections, caches and statement caches.
func (m *measurement) warmUp(ctx context.Context, url, name string, l load) {
	if m.o.WarmUp <= 0 {
		return
	}
	l.Duration = m.o.WarmUp
	attack(ctx, url, m.w.source(name), l, 0)
}

func describe(l load) string {
	if l.Mode == "rate" {
		return fmt.Sprintf("%d requests/s for %s", l.Rate, l.Duration)
	}
	return fmt.Sprintf("%d workers flat out for %s", l.Workers, l.Duration)
}

// sameAnswers checks that the baseline answers the pages Pecan answers
// with the same posts, so the comparison is of the same work.
func sameAnswers(ctx context.Context, w *workload, pecanURL, baseURL string) error {
	pecan, base := &apiClient{base: pecanURL}, &apiClient{base: baseURL}
	for _, name := range baselineScenarios {
		reads := w.reads[name]
		for _, r := range reads[:min(len(reads), 30)] {
			var want, got envelope
			if err := pecan.do(ctx, r.Method, r.Path, r.Token, nil, &want); err != nil {
				return err
			}
			if err := base.do(ctx, r.Method, r.Path, r.Token, nil, &got); err != nil {
				return fmt.Errorf("baseline: %w", err)
			}
			if a, b := postIDs(want), postIDs(got); a != b || want.Meta.More != got.Meta.More {
				return fmt.Errorf("baseline disagrees with Pecan on %s: Pecan %s (more %v), baseline %s (more %v)",
					r.Path, a, want.Meta.More, b, got.Meta.More)
			}
		}
	}
	return nil
}

func postIDs(e envelope) string {
	ids := make([]string, len(e.Data))
	for i, p := range e.Data {
		ids[i] = p.ID
	}
	return strings.Join(ids, ",")
}
