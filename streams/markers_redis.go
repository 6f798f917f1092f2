package streams

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pecan-social/pecan/models"
)

// RedisMarkers keeps each user's markers in one hash, fields
// "<name>|<attribute>", and moves a marker with one Lua script, so an update
// is a single atomic step however many replicas send them.
type RedisMarkers struct {
	client *redis.Client
	prefix string
}

// NewRedisMarkers returns the Redis marker store.
func NewRedisMarkers(client *redis.Client, prefix string) *RedisMarkers {
	return &RedisMarkers{client: client, prefix: prefix}
}

var markerAttributes = []string{"id", "last_read_id", "percentage", "version", "updated_at"}

// updateMarker: KEYS[1] the user's hash; ARGV name, id, percentage,
// expected version ("" for none), reset ("1"), now. Ids stay strings and
// are compared as numbers, which Lua holds exactly up to 2^53.
var updateMarker = redis.NewScript(`
local f = function(attr) return ARGV[1] .. '|' .. attr end
local version = tonumber(redis.call('HGET', KEYS[1], f('version')) or '0')
if ARGV[4] ~= '' and tonumber(ARGV[4]) ~= version then
  return {}
end
local last = redis.call('HGET', KEYS[1], f('last_read_id'))
if ARGV[5] == '1' or last == false or tonumber(last) < tonumber(ARGV[2]) then
  last = ARGV[2]
end
redis.call('HSET', KEYS[1], f('id'), ARGV[2], f('last_read_id'), last, f('percentage'), ARGV[3],
  f('version'), tostring(version + 1), f('updated_at'), ARGV[6])
return {ARGV[2], last, ARGV[3], tostring(version + 1), ARGV[6]}
`)

func (s *RedisMarkers) key(userID int64) string {
	return s.prefix + "markers:" + strconv.FormatInt(userID, 10)
}

// Update moves one marker atomically.
func (s *RedisMarkers) Update(ctx context.Context, userID int64, u MarkerUpdate, now time.Time) (models.Marker, error) {
	expect, reset := "", "0"
	if u.ExpectVersion != nil {
		expect = strconv.FormatInt(*u.ExpectVersion, 10)
	}
	if u.ResetReadID {
		reset = "1"
	}
	values, err := updateMarker.Run(ctx, s.client, []string{s.key(userID)},
		u.Name, u.ID, u.Percentage, expect, reset, now.Unix()).StringSlice()
	if err != nil {
		return models.Marker{}, fmt.Errorf("update marker %s: %w", u.Name, err)
	}
	if len(values) != len(markerAttributes) {
		return models.Marker{}, ErrMarkerConflict
	}
	// The script returns what it wrote, so a later update cannot leak in.
	attrs := make(map[string]string, len(values))
	for i, v := range values {
		attrs[markerAttributes[i]] = v
	}
	return markerFrom(u.Name, attrs), nil
}

// Get reads one marker.
func (s *RedisMarkers) Get(ctx context.Context, userID int64, name string) (models.Marker, bool, error) {
	fields := make([]string, len(markerAttributes))
	for i, a := range markerAttributes {
		fields[i] = name + "|" + a
	}
	values, err := s.client.HMGet(ctx, s.key(userID), fields...).Result()
	if err != nil {
		return models.Marker{}, false, fmt.Errorf("read marker %s: %w", name, err)
	}
	attrs := map[string]string{}
	for i, v := range values {
		if str, ok := v.(string); ok {
			attrs[markerAttributes[i]] = str
		}
	}
	if attrs["version"] == "" {
		return models.Marker{}, false, nil
	}
	return markerFrom(name, attrs), true, nil
}

// All reads every marker of a user.
func (s *RedisMarkers) All(ctx context.Context, userID int64) ([]models.Marker, error) {
	all, err := s.client.HGetAll(ctx, s.key(userID)).Result()
	if err != nil {
		return nil, fmt.Errorf("read markers: %w", err)
	}
	byName := map[string]map[string]string{}
	for field, value := range all {
		name, attr, ok := strings.Cut(field, "|")
		if !ok {
			continue
		}
		if byName[name] == nil {
			byName[name] = map[string]string{}
		}
		byName[name][attr] = value
	}
	out := make([]models.Marker, 0, len(byName))
	for name, attrs := range byName {
		out = append(out, markerFrom(name, attrs))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func markerFrom(name string, attrs map[string]string) models.Marker {
	num := func(a string) int64 { n, _ := strconv.ParseInt(attrs[a], 10, 64); return n }
	return models.Marker{
		Name: name, ID: num("id"), LastReadID: num("last_read_id"), Percentage: int(num("percentage")),
		Version: num("version"), UpdatedAt: time.Unix(num("updated_at"), 0).UTC(),
	}
}
