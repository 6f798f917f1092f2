package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/app/text"
	"github.com/pecan-social/pecan/models"
)

var (
	pecanBinOnce sync.Once
	pecanBin     string
	pecanBinErr  error
)

// builtPecan builds ./cmd/pecan once for all tests of the package.
func builtPecan(t *testing.T) string {
	t.Helper()
	pecanBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pecan-bench-test-")
		if err != nil {
			pecanBinErr = err
			return
		}
		pecanBin, pecanBinErr = buildPecan(context.Background(), dir)
	})
	if pecanBinErr != nil {
		t.Fatal(pecanBinErr)
	}
	return pecanBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pecanBin != "" {
		os.RemoveAll(filepath.Dir(pecanBin))
	}
	os.Exit(code)
}

// TestQuick runs the whole tool at a tiny scale, every scenario for half a
// second a mode, and checks each measured something and nothing failed,
// so the tool cannot rot unnoticed as Pecan changes.
func TestQuick(t *testing.T) {
	bin := builtPecan(t)
	for _, name := range testenv.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := defaultOptions()
			o.PecanBin, o.ServerLogLevel, o.DBConns = bin, "warn", 4
			o.Users, o.Posts, o.Follows, o.Active = 20, 300, 10, 10
			o.FanoutFollowers, o.FanoutServers, o.FanoutRuns = 40, 8, 1
			o.Rate, o.Workers, o.Duration, o.WarmUp, o.RSATime = 40, 4, 500*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond
			if name == "postgres" {
				o.DatabaseURL, o.RedisURL = os.Getenv(testenv.DatabaseURLEnv), os.Getenv(testenv.RedisURLEnv)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			rep, err := run(ctx, o, t.Logf)
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, rep, o)
		})
	}
}

func checkReport(t *testing.T, rep *report, o options) {
	t.Helper()
	for _, scenario := range scenarioNames {
		if scenario == "fanout" {
			continue
		}
		servers := []string{"pecan"}
		if slices.Contains(baselineScenarios, scenario) {
			servers = append(servers, "baseline")
		}
		for _, server := range servers {
			for _, mode := range o.Modes {
				i := slices.IndexFunc(rep.Runs, func(r runResult) bool {
					return r.Scenario == scenario && r.Server == server && r.Mode == mode
				})
				if i < 0 {
					t.Errorf("no %s run of %s on %s", mode, scenario, server)
					continue
				}
				r := rep.Runs[i]
				if r.Requests == 0 || r.Errors != 0 || r.RPS <= 0 || r.P99MS <= 0 {
					t.Errorf("%s %s on %s: %d requests, %d errors (%v), %.0f req/s, p99 %.1f ms",
						mode, scenario, server, r.Requests, r.Errors, r.ErrorSamples, r.RPS, r.P99MS)
				}
				// CPU time comes in clock ticks of 10 ms: the fixed-rate runs
				// here (20 requests) of a cheap scenario may not use one.
				if server == "pecan" && (r.MaxRSSMB <= 0 || (mode == "max" && r.CPUPer1k <= 0)) {
					t.Errorf("%s %s: no server RSS or CPU measured: %+v", mode, scenario, r)
				}
				if server == "pecan" && slices.Contains(baselineScenarios, scenario) && r.RatioToBase <= 0 {
					t.Errorf("%s %s: no ratio to the baseline", mode, scenario)
				}
			}
		}
	}
	if len(rep.Fanout) != 2 {
		t.Fatalf("fanout results: %+v", rep.Fanout)
	}
	for _, f := range rep.Fanout {
		if f.Error != "" || len(f.RunsMS) != o.FanoutRuns || f.MedianMS <= 0 {
			t.Errorf("fanout %s: %+v", f.Variant, f)
		}
	}
	if rep.Fanout[0].Deliveries != o.FanoutServers || rep.Fanout[1].Deliveries != o.FanoutFollowers {
		t.Errorf("fanout deliveries: %d and %d, want one per server (%d) and one per follower (%d)",
			rep.Fanout[0].Deliveries, rep.Fanout[1].Deliveries, o.FanoutServers, o.FanoutFollowers)
	}
	if len(rep.StartupMS) != 2 || rep.StartupMS[1] <= 0 || rep.IdleRSSMB <= 0 || rep.Machine.RSASignsPS <= 0 {
		t.Errorf("start-up %v ms, idle RSS %.1f MB, RSA %.0f/s", rep.StartupMS, rep.IdleRSSMB, rep.Machine.RSASignsPS)
	}
	if got := rep.text(); len(got) < 500 {
		t.Errorf("text report too short:\n%s", got)
	}
}

// TestSeededTextsParseAsTheAppWould checks that filling a parsed template
// gives the text and entities app/text makes of the same post as a client
// would have sent it.
func TestSeededTextsParseAsTheAppWould(t *testing.T) {
	for _, users := range []int{20, 1000, 123456} {
		f := newTextFactory(max(4, len(strconv.Itoa(users))))
		rng := newRand(uint64(users))
		for n := range int64(200) {
			tpl := int(n) % len(postTemplates)
			a := mentionRef{ID: 1 + rng.Int64N(int64(users))}
			b := mentionRef{ID: 1 + rng.Int64N(int64(users))}
			a.Username, b.Username = f.username(int(a.ID)), f.username(int(b.ID))
			tagA, tagB := tagNames[rng.IntN(len(tagNames))], tagNames[rng.IntN(len(tagNames))]
			number := rng.Int64N(1_000_000_000)
			stored, e := f.fill(tpl, number, a, b, tagA, tagB)
			input := f.input(tpl, number, a, b, tagA, tagB)
			wantText, want := text.Parse(input, text.Options{ParseLinks: true, ParseMarkdownLinks: true})
			for i := range want.Mentions { // A comes before B in every template
				want.Mentions[i].ID = strconv.FormatInt([]int64{a.ID, b.ID}[i], 10)
			}
			if stored != wantText || !sameEntities(e, want) {
				t.Fatalf("template %d, input %q:\nseeded %q %+v\nparsed %q %+v", tpl, input, stored, e, wantText, want)
			}
			if l := text.Length(stored, e); l > 256 {
				t.Fatalf("template %d is %d long", tpl, l)
			}
		}
	}
}

func sameEntities(a, b models.Entities) bool {
	eqLink := func(x, y models.Link) bool {
		return x.URL == y.URL && x.Text == y.Text && x.Pos == y.Pos && x.Len == y.Len && x.Title == y.Title &&
			(x.AmendedLen == nil) == (y.AmendedLen == nil) && (x.AmendedLen == nil || *x.AmendedLen == *y.AmendedLen)
	}
	return slices.EqualFunc(a.Links, b.Links, eqLink) && slices.Equal(a.Mentions, b.Mentions) && slices.Equal(a.Tags, b.Tags)
}

// TestSeedKeepsCountsConsistent checks the counters seeding writes against
// the rows it writes, as the app keeps them.
func TestSeedKeepsCountsConsistent(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		db, err := database.Open(b.DatabaseURL, 2)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		if _, err := db.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		data, err := seedDatabase(ctx, db, seedPlan{
			Users: 30, Posts: 2500, Follows: 7, Active: 5, FanoutFollowers: 12, Servers: []string{"127.0.0.2:1", "127.0.0.3:1"}, Seed: 3,
		}, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		if len(data.Active) != 5 || len(data.ThreadRoots) != 1 || data.Rows["posts"] != 2500 {
			t.Fatalf("seeded: %+v", data)
		}
		checks := map[string]string{
			"post counts":      `SELECT count(*) FROM users u WHERE post_count <> (SELECT count(*) FROM posts p WHERE p.user_id = u.id)`,
			"follower counts":  `SELECT count(*) FROM users u WHERE follower_count <> (SELECT count(*) FROM follows f WHERE f.followee_id = u.id)`,
			"following counts": `SELECT count(*) FROM users u WHERE following_count <> (SELECT count(*) FROM follows f WHERE f.follower_id = u.id)`,
			"reply counts":     `SELECT count(*) FROM posts p WHERE reply_count <> (SELECT count(*) FROM posts r WHERE r.reply_to = p.id)`,
			"thread counts":    `SELECT count(*) FROM posts p WHERE thread_count <> (SELECT count(*) FROM posts r WHERE r.thread_id = p.id AND r.id <> p.id)`,
			"global":           `SELECT count(*) FROM posts WHERE NOT in_global`,
			"tag rows":         `SELECT count(*) FROM posts p WHERE entities LIKE '%"tags":[{%' AND NOT EXISTS (SELECT 1 FROM post_tags t WHERE t.post_id = p.id)`,
			"mention rows":     `SELECT count(*) FROM posts p WHERE entities LIKE '%"mentions":[{%' AND NOT EXISTS (SELECT 1 FROM post_mentions m WHERE m.post_id = p.id)`,
			"shared inboxes":   `SELECT 12 - count(DISTINCT u.id) FROM users u WHERE shared_inbox_url <> ''`,
		}
		for name, q := range checks {
			var bad int
			if err := db.Bun.NewRaw(q).Scan(ctx, &bad); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if bad != 0 {
				t.Errorf("%s: %d rows disagree", name, bad)
			}
		}
		// New rows get ids past the seeded ones.
		var u models.User
		u.Username, u.UsernameKey, u.Type = "late", "late", models.UserHuman
		if err := db.CreateUser(ctx, &u); err != nil || u.ID <= int64(30+2+24) {
			t.Fatalf("user created after seeding: id %d, %v", u.ID, err)
		}
	})
}

// TestBaselineAgreesWithPecan runs the global and personal scenarios with
// few and many follows each, so personal pages take each of the streams
// package's plans (one range per author, or the walk by id) on each
// backend; the run fails if the baseline answers any page with other
// posts than Pecan's.
func TestBaselineAgreesWithPecan(t *testing.T) {
	if testing.Short() {
		t.Skip("four more seeded servers; TestQuick covers one plan per backend")
	}
	bin := builtPecan(t)
	for _, name := range testenv.Names() {
		for _, follows := range []int{5, 60} {
			t.Run(name+"/follows="+strconv.Itoa(follows), func(t *testing.T) {
				t.Parallel()
				o := defaultOptions()
				o.PecanBin, o.ServerLogLevel, o.DBConns = bin, "warn", 3
				o.Users, o.Posts, o.Follows, o.Active = 70, 1500, follows, 12
				o.FanoutFollowers, o.FanoutServers = 2, 1
				o.Scenarios, o.Modes, o.Rate, o.Duration, o.WarmUp, o.RSATime = []string{"global", "personal"}, []string{"rate"}, 20, 200*time.Millisecond, 0, 50*time.Millisecond
				if name == "postgres" {
					o.DatabaseURL = os.Getenv(testenv.DatabaseURLEnv)
				}
				if _, err := run(context.Background(), o, func(string, ...any) {}); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}
