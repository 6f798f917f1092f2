package apptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/apidoc"
	"github.com/pecan-social/pecan/client"
)

// document is the OpenAPI document, loaded once per test binary.
var document = sync.OnceValues(func() (*openapi3.T, error) {
	raw, err := apidoc.JSON()
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("apptest: load the OpenAPI document: %w", err)
	}
	return doc, nil
})

// OpenAPIPath turns an echo route path ("/v1/posts/:id") into the
// document's form ("/v1/posts/{id}"). /v0 serves the /v1 routes, so it is
// described by them.
func OpenAPIPath(echoPath string) string {
	if rest, ok := strings.CutPrefix(echoPath, "/v0/"); ok {
		echoPath = "/v1/" + rest
	}
	parts := strings.Split(echoPath, "/")
	for i, p := range parts {
		if name, ok := strings.CutPrefix(p, ":"); ok {
			parts[i] = "{" + name + "}"
		}
	}
	return strings.Join(parts, "/")
}

// checkAnswer validates an API answer against the OpenAPI document: its
// status must be one the operation declares (or an error, which every
// operation declares as default) and its body must match that response's
// schema. Requests outside /v1 and /v0, and those that match no route or
// no documented method, are not checked.
func (s *Server) checkAnswer(req *http.Request, resp *http.Response, body []byte) error {
	if req.Method == http.MethodHead || req.Method == http.MethodOptions {
		return nil
	}
	ctx := s.App.HTTP.NewContext(req, nil)
	s.App.HTTP.Router().Find(req.Method, echo.GetPath(req), ctx)
	route := ctx.Path()
	if !strings.HasPrefix(route, "/v1/") && !strings.HasPrefix(route, "/v0/") {
		return nil
	}
	doc, err := document()
	if err != nil {
		return err
	}
	path := OpenAPIPath(route)
	item := doc.Paths.Value(path)
	if item == nil {
		return nil // a route added by a test; TestEveryRouteIsDocumented covers the real ones
	}
	op := item.GetOperation(req.Method)
	if op == nil {
		return nil // a method the route does not have: echo's 405
	}
	params := map[string]string{}
	for i, name := range ctx.ParamNames() {
		params[name] = ctx.ParamValues()[i]
	}
	options := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Options: options,
			Route: &routers.Route{Spec: doc, Path: path, PathItem: item, Method: req.Method, Operation: op},
		},
		Status: resp.StatusCode, Header: resp.Header, Options: options,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("apptest: %s %s (route %s %s) answered %d, which the OpenAPI document does not allow:\n%s\nbody: %s",
			req.Method, req.URL.RequestURI(), req.Method, path, resp.StatusCode, mismatches(err), body)
	}
	return nil
}

// mismatches lists each place the body differs from the schema, one per
// line, without kin-openapi's dump of the whole schema and value.
func mismatches(err error) string {
	var lines []string
	var walk func(error)
	walk = func(err error) {
		var multi openapi3.MultiError
		var schemaErr *openapi3.SchemaError
		switch {
		case errors.As(err, &multi):
			for _, e := range multi {
				walk(e)
			}
		case errors.As(err, &schemaErr):
			lines = append(lines, "  at /"+strings.Join(schemaErr.JSONPointer(), "/")+": "+schemaErr.Reason)
		default:
			lines = append(lines, "  "+err.Error())
		}
	}
	walk(err)
	return strings.Join(lines, "\n")
}

// validating is an http.RoundTripper that checks each API answer against
// the OpenAPI document, as Send does, for clients other than Send (the Go
// client library).
type validating struct {
	srv  *Server
	next http.RoundTripper
}

func (v validating) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := v.srv.checkAnswer(req, resp, body); err != nil {
		return nil, err
	}
	return resp, nil
}

// Client is the Go client library, calling this server with token ("" for
// none), with every answer checked against the OpenAPI document.
func (s *Server) Client(t testing.TB, token string) *client.Client {
	t.Helper()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: validating{srv: s, next: http.DefaultTransport}}
	c, err := client.New(s.URL, client.WithToken(token), client.WithHTTPClient(hc), client.WithUserAgent("apptest"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
