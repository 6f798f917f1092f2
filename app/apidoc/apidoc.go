// Package apidoc is Pecan's OpenAPI 3.1 document: openapi.yaml holds what
// every route shares, and each other YAML file beside it one area's routes.
// They are merged into one document, served as JSON at /v1/openapi.json.
package apidoc

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed *.yaml
var files embed.FS

// rootFile holds info, tags and the shared components; the others add paths.
const rootFile = "openapi.yaml"

var built = sync.OnceValues(func() ([]byte, error) {
	doc, err := merge(files)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
})

// JSON is the whole document as JSON, built once.
func JSON() ([]byte, error) { return built() }

// merge reads the root file and adds every other file's paths and
// components to it. The same path and method, or the same component, in
// two files is an error: each route is described once.
func merge(fsys fs.FS) (map[string]any, error) {
	doc, err := readYAML(fsys, rootFile)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		if name == rootFile {
			continue
		}
		part, err := readYAML(fsys, name)
		if err != nil {
			return nil, err
		}
		if err := mergePart(doc, part, name); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

func mergePart(doc, part map[string]any, name string) error {
	for key := range part {
		if key != "paths" && key != "components" {
			return fmt.Errorf("apidoc: %s: only paths and components may be added, not %q", name, key)
		}
	}
	if err := mergeLevel(doc, part, "paths", 2, name); err != nil {
		return err
	}
	return mergeLevel(doc, part, "components", 2, name)
}

// mergeLevel copies part[key] into doc[key], descending depth levels of
// maps (path → method, or kind → component name) before refusing a clash.
func mergeLevel(doc, part map[string]any, key string, depth int, name string) error {
	src, ok := part[key].(map[string]any)
	if !ok {
		return nil
	}
	dst, ok := doc[key].(map[string]any)
	if !ok {
		dst = map[string]any{}
		doc[key] = dst
	}
	for k, v := range src {
		if _, clash := dst[k]; clash {
			if depth <= 1 {
				return fmt.Errorf("apidoc: %s: %s %q is already described", name, key, k)
			}
			if err := mergeLevel(dst, src, k, depth-1, name); err != nil {
				return err
			}
			continue
		}
		dst[k] = v
	}
	return nil
}

func readYAML(fsys fs.FS, name string) (map[string]any, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var v any
	if err := yaml.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("apidoc: %s: %w", name, err)
	}
	doc, ok := jsonable(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("apidoc: %s is not a mapping", name)
	}
	return doc, nil
}

// jsonable turns YAML's maps with non-string keys (status codes written
// unquoted) into the string-keyed maps JSON needs.
func jsonable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = jsonable(x)
		}
		return t
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[fmt.Sprint(k)] = jsonable(x)
		}
		return out
	case []any:
		for i, x := range t {
			t[i] = jsonable(x)
		}
		return t
	}
	return v
}
