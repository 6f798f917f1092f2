package api_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pecan-social/pecan/app/apptest"
	"github.com/pecan-social/pecan/app/testenv"
)

// TestEveryRouteIsDocumented walks the routes echo has registered and
// fails for each /v1 route the served OpenAPI document lacks, and for each
// documented operation no route serves.
func TestEveryRouteIsDocumented(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, b testenv.Backend) {
		srv := apptest.Start(t, b)
		r := srv.Do(t, apptest.Request{Method: "GET", Path: "/v1/openapi.json"}).Expect(t, 200)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("content type %q", ct)
		}
		doc, err := openapi3.NewLoader().LoadFromData(r.Body)
		if err != nil {
			t.Fatalf("the served document does not load: %v", err)
		}

		registered := map[string]bool{}
		var missing []string
		for _, route := range srv.App.HTTP.Routes() {
			if !strings.HasPrefix(route.Path, "/v1/") {
				continue
			}
			path := apptest.OpenAPIPath(route.Path)
			registered[route.Method+" "+path] = true
			if item := doc.Paths.Value(path); item == nil || item.GetOperation(route.Method) == nil {
				missing = append(missing, route.Method+" "+path)
			}
		}
		if len(registered) < 40 {
			t.Fatalf("only %d /v1 routes registered; is the walk right?", len(registered))
		}
		var stale []string
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				if !registered[method+" "+path] {
					stale = append(stale, method+" "+path)
				}
			}
		}
		sort.Strings(missing)
		sort.Strings(stale)
		if len(missing) > 0 {
			t.Errorf("routes missing from the OpenAPI document (app/apidoc):\n  %s", strings.Join(missing, "\n  "))
		}
		if len(stale) > 0 {
			t.Errorf("documented operations no route serves:\n  %s", strings.Join(stale, "\n  "))
		}
	})
}
