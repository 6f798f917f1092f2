package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/errs"
)

// Media types request bodies may have.
const (
	mediaJSON = "application/json"
	mediaForm = "application/x-www-form-urlencoded"
)

// requireKnownContentType answers 415 to a body in a type Pecan does not read.
func requireKnownContentType(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !hasBody(r) {
			return next(c)
		}
		if _, err := mediaType(r); err != nil {
			return err
		}
		return next(c)
	}
}

func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

func mediaType(r *http.Request) (string, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err == nil && (mt == mediaJSON || mt == mediaForm) {
		return mt, nil
	}
	return "", &errs.Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
		Message: "send the body as application/json or application/x-www-form-urlencoded"}
}

// decodeBody reads a JSON or form body into dst, a pointer to a struct with
// json tags. Dotted keys ("entities.parse_links") and nested objects
// ("entities": {"parse_links": …}) mean the same, as pnut clients send both.
// An empty body leaves dst as it is.
func decodeBody(c echo.Context, dst any) error {
	r := c.Request()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return readError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	mt, err := mediaType(r)
	if err != nil {
		return err
	}
	fields, err := parseFields(mt, body)
	if err != nil {
		return err
	}
	return fillStruct(fields, dst)
}

func readError(err error) error {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return echo.ErrStatusRequestEntityTooLarge
	}
	return errs.Invalid("", "unreadable_body", "could not read the request body")
}

func parseFields(mt string, body []byte) (map[string]any, error) {
	var flat map[string]any
	if mt == mediaForm {
		values, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errs.Invalid("", "malformed_form", "the form body is malformed: %v", err)
		}
		flat = formFields(values)
	} else {
		var err error
		if flat, err = jsonFields(body); err != nil {
			return nil, err
		}
	}
	if err := rejectNUL(flat, ""); err != nil {
		return nil, err
	}
	return expandDotted(flat)
}

func formFields(values url.Values) map[string]any {
	out := make(map[string]any, len(values))
	for k, vs := range values {
		if len(vs) == 1 {
			out[k] = vs[0]
			continue
		}
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		out[k] = list
	}
	return out
}

func jsonFields(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, malformedJSON(err)
	}
	if dec.More() {
		return nil, errs.Invalid("", "malformed_json", "the body holds more than one JSON value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errs.Invalid("", "malformed_json", "the body must be a JSON object")
	}
	return obj, nil
}

func malformedJSON(err error) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return errs.Invalid("", "malformed_json", "malformed JSON at byte %d: %v", syntax.Offset, err)
	}
	return errs.Invalid("", "malformed_json", "malformed JSON: %v", err)
}

// rejectNUL refuses NUL characters anywhere: no text field has a use for
// them and PostgreSQL cannot store them.
func rejectNUL(v any, path string) error {
	switch x := v.(type) {
	case string:
		if strings.ContainsRune(x, 0) {
			return errs.Invalid(path, "invalid_text", "%s must not contain NUL characters", fieldName(path))
		}
	case map[string]any:
		for k, child := range x {
			if strings.ContainsRune(k, 0) {
				return errs.Invalid("", "invalid_text", "keys must not contain NUL characters")
			}
			if err := rejectNUL(child, joinPath(path, k)); err != nil {
				return err
			}
		}
	case []any:
		for _, child := range x {
			if err := rejectNUL(child, path); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func fieldName(path string) string {
	if path == "" {
		return "the body"
	}
	return path
}

// expandDotted turns {"a.b": 1} into {"a": {"b": 1}}, merging with any
// nested object of the same name.
func expandDotted(flat map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(flat))
	for k, v := range flat {
		if err := setPath(out, strings.Split(k, "."), v, k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func setPath(dst map[string]any, parts []string, v any, key string) error {
	head := parts[0]
	if len(parts) == 1 {
		if existing, ok := dst[head].(map[string]any); ok {
			incoming, isMap := v.(map[string]any)
			if !isMap {
				return errs.Invalid(key, "invalid_type", "%s is given twice with different shapes", key)
			}
			for k, child := range incoming {
				if err := setPath(existing, strings.Split(k, "."), child, key+"."+k); err != nil {
					return err
				}
			}
			return nil
		}
		dst[head] = v
		return nil
	}
	child, exists := dst[head]
	if !exists {
		child = map[string]any{}
		dst[head] = child
	}
	childMap, ok := child.(map[string]any)
	if !ok {
		return errs.Invalid(key, "invalid_type", "%s is given twice with different shapes", key)
	}
	return setPath(childMap, parts[1:], v, key)
}

// fillStruct re-encodes the merged fields and decodes them into dst. HTML
// escaping is off so that json.RawMessage fields (raw) hold what the client
// sent, byte for byte as far as compact JSON allows: escaping would turn
// one-byte <, > and & into six-byte \u003c and count them against limits.
func fillStruct(fields map[string]any, dst any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fields); err != nil {
		return fmt.Errorf("re-encode body: %w", err)
	}
	return jsonError(json.Unmarshal(b.Bytes(), dst))
}

// jsonError turns what encoding/json reports into a client error that
// names the field and the type it wants.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return errs.Invalid(typeErr.Field, "invalid_type", "%s must be %s", fieldName(typeErr.Field), describeType(typeErr.Type.String()))
	}
	if e, ok := errs.As(err); ok {
		return e
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return malformedJSON(err)
	}
	if err != nil {
		return errs.Invalid("", "invalid_body", "the body does not fit this request: %v", err)
	}
	return nil
}

func describeType(goType string) string {
	switch {
	case strings.Contains(goType, "string"):
		return "a string"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a number"
	case strings.Contains(goType, "bool"):
		return "a boolean"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	default:
		return "an object"
	}
}

// Bool reads pnut's loose booleans: true/false, 1/0, and their string forms
// (form bodies carry only strings).
type Bool bool

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	switch strings.ToLower(s) {
	case "true", "1":
		*b = true
	case "false", "0", "":
		*b = false
	default:
		return &json.UnmarshalTypeError{Value: s, Type: boolType}
	}
	return nil
}

var boolType = reflect.TypeOf(true)

// Int reads an integer sent as a JSON number or a string.
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return &json.UnmarshalTypeError{Value: s, Type: intType}
	}
	*n = Int(v)
	return nil
}

var intType = reflect.TypeOf(int64(0))
