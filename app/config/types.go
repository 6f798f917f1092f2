package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is COUNT events per PERIOD, written "20/1m".
type Rate struct {
	Count  int
	Period time.Duration
}

// UnmarshalText reads "COUNT/PERIOD".
func (r *Rate) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	countText, periodText, ok := strings.Cut(s, "/")
	count, errCount := strconv.Atoi(countText)
	period, errPeriod := time.ParseDuration(periodText)
	if !ok || errCount != nil || errPeriod != nil {
		return fmt.Errorf(`want "COUNT/PERIOD" like "20/1m", got %q`, s)
	}
	*r = Rate{Count: count, Period: period}
	return r.check()
}

func (r Rate) check() error {
	if r.Count < 1 || r.Period < time.Second {
		return fmt.Errorf("want at least 1 event per at least 1s, got %s", r)
	}
	return nil
}

// String writes the rate back in its text form, with the shortest period.
func (r Rate) String() string {
	return strconv.Itoa(r.Count) + "/" + shortDuration(r.Period)
}

// MarshalText lets the rate round-trip through YAML and JSON.
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func shortDuration(d time.Duration) string {
	s := d.String() // "1h0m0s" → "1h", "1m0s" → "1m", "1m30s" stays
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ByteSize is a number of bytes, written "1MiB", "512KiB", "1MB" or "65536".
type ByteSize int64

var byteUnits = []struct {
	suffix string
	size   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

// UnmarshalText reads a size with an optional unit.
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	unit := int64(1)
	number := s
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			number, unit = strings.TrimSpace(rest), u.size
			break
		}
	}
	n, err := strconv.ParseInt(number, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/unit {
		return errors.New(`want a size like "1MiB", "512KiB" or a number of bytes, got ` + strconv.Quote(s))
	}
	*b = ByteSize(n * unit)
	return nil
}

// String writes the size in the largest binary unit that divides it.
func (b ByteSize) String() string {
	n := int64(b)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n > 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// MarshalText lets the size round-trip.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }
