package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/testenv"
	"github.com/pecan-social/pecan/models"
)

// series scrapes /metrics and returns the label sets of metric name, each
// as written between the braces, with its value.
func series(t *testing.T, srv *apptest.Server, name string) map[string]string {
	t.Helper()
	body := srv.Do(t, apptest.Request{Method: "GET", Path: "/metrics"}).Expect(t, 200).Body
	out := map[string]string{}
	for line := range strings.Lines(string(body)) {
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			t.Fatalf("unreadable metrics line %q", line)
		}
		out[labels] = strings.TrimSpace(value)
	}
	return out
}

func TestMetricLabelsIgnoreClientInput(t *testing.T) {
	srv := apptest.Start(t, testenv.New(t, "sqlite"))
	srv.CreateUser(t, "alice", models.UserHuman)
	srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@alice"}).Expect(t, 200)
	srv.Do(t, apptest.Request{Method: "BREW", Path: "/v1/users/@alice"}).Expect(t, 405)
	series(t, srv, "pecan_http_requests_total") // so the scrape's own series exists
	before := series(t, srv, "pecan_http_requests_total")

	for _, host := range []string{"attacker-1.example", "attacker-2.example:8443"} {
		srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/users/@alice", Header: http.Header{"Host": {host}}}).Expect(t, 200)
	}
	srv.Do(t, apptest.Request{Method: "MOCHA", Path: "/v1/users/@alice"}).Expect(t, 405)
	after := series(t, srv, "pecan_http_requests_total")
	for labels := range after {
		if _, ok := before[labels]; !ok {
			t.Errorf("new series from client input: {%s}", labels)
		}
	}
	if len(after) != len(before) {
		t.Fatalf("%d series before, %d after:\n%v\n%v", len(before), len(after), before, after)
	}
}
