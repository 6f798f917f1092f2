package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// report is everything one run of the tool measured.
type report struct {
	StartedAt   string         `json:"started_at"`
	Machine     machine        `json:"machine"`
	Backend     string         `json:"backend"` // sqlite+memory, postgres+redis, external
	Target      string         `json:"target,omitempty"`
	Scale       scale          `json:"scale"`
	SeedSeconds float64        `json:"seed_seconds,omitempty"`
	SeedRows    map[string]int `json:"seed_rows,omitempty"`
	// StartupMS is each start of the server until /readyz answered 200,
	// with the migrations already applied.
	StartupMS []float64      `json:"startup_ms,omitempty"`
	IdleRSSMB float64        `json:"idle_rss_mb,omitempty"`
	Runs      []runResult    `json:"runs"`
	Fanout    []fanoutResult `json:"fanout,omitempty"`
	Skipped   []string       `json:"skipped,omitempty"`
}

type scale struct {
	Users           int `json:"users"`
	Posts           int `json:"posts"`
	Follows         int `json:"follows_per_user"`
	FanoutFollowers int `json:"fanout_followers"`
	FanoutServers   int `json:"fanout_servers"`
}

// text renders the report as a table.
func (r *report) text() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Pecan benchmark, %s, %s\n", r.StartedAt, r.Backend)
	if r.Target != "" {
		fmt.Fprintf(&sb, "target: %s\n", r.Target)
	} else {
		s := r.Scale
		fmt.Fprintf(&sb, "data: %d users, %d posts, %d follows each; fanout to %d followers on %d servers\n",
			s.Users, s.Posts, s.Follows, s.FanoutFollowers, s.FanoutServers)
		fmt.Fprintf(&sb, "seeded in %.1fs: %s\n", r.SeedSeconds, rowCounts(r.SeedRows))
	}
	m := r.Machine
	fmt.Fprintf(&sb, "machine: %d CPUs, %s, load average before: %s\n", m.CPUs, m.GoVersion, m.LoadBefore)
	fmt.Fprintf(&sb, "RSA-2048 PKCS#1 v1.5 SHA-256 signatures: %.0f/s on all cores, %.0f/s on one\n", m.RSASignsPS, m.RSASignsPS1)
	if len(r.StartupMS) > 0 {
		parts := make([]string, len(r.StartupMS))
		for i, v := range r.StartupMS {
			parts[i] = fmt.Sprintf("%.0f ms", v)
		}
		fmt.Fprintf(&sb, "start-up to ready, migrations applied: %s\n", strings.Join(parts, ", "))
	}
	switch {
	case r.IdleRSSMB > 0 && r.Target != "":
		fmt.Fprintf(&sb, "server RSS before the runs: %.1f MB\n", r.IdleRSSMB)
	case r.IdleRSSMB > 0:
		fmt.Fprintf(&sb, "idle RSS after start: %.1f MB\n", r.IdleRSSMB)
	}
	sb.WriteString("\n")
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tserver\tload\tsent/s\treq/s\tp50 ms\tp90 ms\tp99 ms\terrors\tRSS max/end MB\tCPU s/1k req\tbytes/resp\tvs baseline\t")
	for _, run := range r.Runs {
		load := fmt.Sprintf("%d/s", run.TargetRate)
		if run.Mode == "max" {
			load = fmt.Sprintf("max %dw", run.Workers)
		}
		rss, cpu, ratio := "-", "-", ""
		if run.MaxRSSMB > 0 {
			rss = fmt.Sprintf("%.0f/%.0f", run.MaxRSSMB, run.EndRSSMB)
			cpu = fmt.Sprintf("%.2f", run.CPUPer1k)
		}
		if run.RatioToBase > 0 {
			ratio = fmt.Sprintf("%.0f%%", run.RatioToBase*100)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%d\t%s\t%s\t%.0f\t%s\t\n", run.Scenario, run.Server, load,
			run.SentPerS, run.RPS, run.P50MS, run.P90MS, run.P99MS, run.Errors, rss, cpu, run.BytesPerReply, ratio)
	}
	tw.Flush()
	for _, f := range r.Fanout {
		if f.Error != "" {
			fmt.Fprintf(&sb, "\nfanout, %s: failed: %s", f.Variant, f.Error)
			continue
		}
		runs := make([]string, len(f.RunsMS))
		for i, v := range f.RunsMS {
			runs[i] = fmt.Sprintf("%.0f", v)
		}
		fmt.Fprintf(&sb, "\nfanout, %s: %d followers → %d verified deliveries in %.0f ms (median; runs %s ms); server CPU %.2f s per post",
			f.Variant, f.Followers, f.Deliveries, f.MedianMS, strings.Join(runs, ", "), f.CPUSeconds)
	}
	if len(r.Fanout) > 0 {
		sb.WriteString("\n")
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(&sb, "skipped: %s\n", s)
	}
	for _, run := range r.Runs {
		for _, e := range run.ErrorSamples {
			fmt.Fprintf(&sb, "error in %s (%s, %s): %s\n", run.Scenario, run.Server, run.Mode, e)
		}
	}
	return sb.String()
}

func rowCounts(rows map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(rows)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, rows[k]))
	}
	return strings.Join(parts, ", ")
}
