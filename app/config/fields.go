package config

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// envPrefix starts every environment variable Pecan reads.
const envPrefix = "PECAN_"

var durationType = reflect.TypeOf(time.Duration(0))

// fieldsOf maps every known key ("http.body_limit") to the field it sets.
// Keys come from the struct, so a new field is configurable from the file
// and the environment without another list to keep in step.
func fieldsOf(cfg *Config) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	collectFields(reflect.ValueOf(cfg).Elem(), "", out)
	return out
}

func collectFields(v reflect.Value, prefix string, out map[string]reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		key := prefix + t.Field(i).Tag.Get("koanf")
		field := v.Field(i)
		if field.Kind() == reflect.Struct && !isText(field) {
			collectFields(field, key+".", out)
			continue
		}
		out[key] = field
	}
}

func isText(v reflect.Value) bool {
	_, ok := v.Addr().Interface().(encoding.TextUnmarshaler)
	return ok
}

// EnvName is the environment variable that overrides key.
func EnvName(key string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Keys lists every known key.
func Keys() []string {
	return sortedKeys(fieldsOf(Default()))
}

func applyFile(path string, fields map[string]reflect.Value) error {
	k := koanf.New(".")
	if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
		return fmt.Errorf("config: read %s: %w", path, err)
	}
	all := k.All()
	for _, key := range sortedKeys(all) {
		field, known := fields[key]
		if !known {
			return keyError(key, "unknown key in %s", path)
		}
		if err := setField(field, all[key]); err != nil {
			return keyError(key, "%v", err)
		}
	}
	return nil
}

// applyEnv matches variables against the known keys rather than splitting
// names on "_", because keys themselves contain underscores.
func applyEnv(environ []string, fields map[string]reflect.Value) error {
	byEnv := make(map[string]string, len(fields))
	for key := range fields {
		byEnv[EnvName(key)] = key
	}
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		key, known := byEnv[name]
		if !known {
			continue
		}
		if err := setField(fields[key], value); err != nil {
			return keyError(key, "%s: %v", name, err)
		}
	}
	return nil
}

// setField stores a value read from YAML (typed) or the environment
// (always a string) into a config field.
func setField(field reflect.Value, raw any) error {
	if raw == nil {
		field.SetZero()
		return nil
	}
	if isText(field) {
		return field.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(scalarText(raw)))
	}
	if field.Type() == durationType {
		d, err := time.ParseDuration(scalarText(raw))
		if err != nil {
			return fmt.Errorf("want a duration like 15s or 1m, got %q", scalarText(raw))
		}
		field.SetInt(int64(d))
		return nil
	}
	switch field.Kind() {
	case reflect.String:
		field.SetString(scalarText(raw))
	case reflect.Int:
		return setInt(field, raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(scalarText(raw))
		if err != nil {
			return fmt.Errorf("want true or false, got %q", scalarText(raw))
		}
		field.SetBool(b)
	case reflect.Slice:
		field.Set(reflect.ValueOf(stringList(raw)))
	default:
		return fmt.Errorf("unsupported field kind %s", field.Kind())
	}
	return nil
}

func setInt(field reflect.Value, raw any) error {
	if f, ok := raw.(float64); ok && f == math.Trunc(f) {
		field.SetInt(int64(f))
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(scalarText(raw)))
	if err != nil {
		return fmt.Errorf("want a whole number, got %q", scalarText(raw))
	}
	field.SetInt(int64(n))
	return nil
}

func scalarText(raw any) string {
	if s, ok := raw.(string); ok {
		return s
	}
	return fmt.Sprint(raw)
}

// stringList reads a YAML list, or a comma-separated string from the
// environment.
func stringList(raw any) []string {
	out := []string{}
	if list, ok := raw.([]any); ok {
		for _, item := range list {
			out = append(out, scalarText(item))
		}
		return out
	}
	for _, part := range strings.Split(scalarText(raw), ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
