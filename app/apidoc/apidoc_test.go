package apidoc

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestDocumentIsValidOpenAPI31 loads the served document with kin-openapi
// and validates it as OpenAPI 3.1: every $ref resolves, every schema is a
// schema, every operation has an id of its own.
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	raw, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	seen := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId", method, path)
			}
			if other, dup := seen[op.OperationID]; dup {
				t.Errorf("operationId %s on %s %s and %s", op.OperationID, method, path, other)
			}
			seen[op.OperationID] = method + " " + path
			if op.Responses.Default() == nil {
				t.Errorf("%s %s: no default (error) response", method, path)
			}
		}
	}
}

func TestMergeRefusesARouteDescribedTwice(t *testing.T) {
	root := "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents: {schemas: {A: {type: string}}}\n"
	route := "paths:\n  /v1/x:\n    get: {responses: {'200': {description: ok}}}\n"
	cases := map[string]fstest.MapFS{
		"same route":     {"openapi.yaml": file(root), "a.yaml": file(route), "b.yaml": file(route)},
		"same component": {"openapi.yaml": file(root), "a.yaml": file("components: {schemas: {A: {type: integer}}}\n")},
		"other key":      {"openapi.yaml": file(root), "a.yaml": file("info: {title: x}\n")},
	}
	for name, fsys := range cases {
		if _, err := merge(fsys); err == nil {
			t.Errorf("%s: merged without complaint", name)
		}
	}
	other := "paths:\n  /v1/x:\n    post: {responses: {'200': {description: ok}}}\n"
	doc, err := merge(fstest.MapFS{"openapi.yaml": file(root), "a.yaml": file(route), "b.yaml": file(other)})
	if err != nil {
		t.Fatal(err)
	}
	methods := doc["paths"].(map[string]any)["/v1/x"].(map[string]any)
	if len(methods) != 2 {
		t.Fatalf("two methods of one path from two files: %v", methods)
	}
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(strings.TrimLeft(s, "\n"))} }
